"""The message log's schema revisions, oldest first (``0001`` is the layout before versions were kept)."""
