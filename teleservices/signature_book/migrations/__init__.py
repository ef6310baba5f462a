"""Schema revisions of this package's stores, one directory per store (``bus.schema_versions``)."""
