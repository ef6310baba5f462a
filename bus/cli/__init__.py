"""The ``govbus`` command line."""
