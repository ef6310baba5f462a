"""Schema revisions of the SDK's stores, one directory per store (``bus.schema_versions``)."""
