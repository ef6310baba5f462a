"""Schema revisions of the portal's database (portal.sqlite3), oldest first (``bus.schema_versions``)."""
