"""Schema revisions of the anchor store (anchors.sqlite, or its PostgreSQL schema), oldest first."""
