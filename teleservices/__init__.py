"""govbus."""
