"""Schema revisions of the access reports outbox (access_reports.sqlite), oldest first."""
