"""Schema revisions of the employer register (employers.sqlite), oldest first."""
