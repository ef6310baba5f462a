"""Schema revisions of the pension register (pensions.sqlite), oldest first."""
