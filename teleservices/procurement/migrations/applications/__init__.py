"""Schema revisions of the procurement applications (applications.sqlite), oldest first."""
