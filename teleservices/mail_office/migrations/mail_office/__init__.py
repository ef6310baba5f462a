"""Schema revisions of the mail office (mail-office.sqlite3), oldest first."""
