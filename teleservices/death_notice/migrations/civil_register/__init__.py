"""Schema revisions of the civil register (civil_register.sqlite), oldest first."""
