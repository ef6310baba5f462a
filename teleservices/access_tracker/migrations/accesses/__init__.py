"""Schema revisions of the access register (accesses.sqlite), oldest first."""
