"""Schema revisions of the mail depositor (mail-depositor.sqlite3), oldest first."""
