"""Schema revisions of a participant's state (state.sqlite: ids handled, notifications sent), oldest first."""
