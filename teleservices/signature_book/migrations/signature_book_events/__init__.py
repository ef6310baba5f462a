"""Schema revisions of the signature book events (signature_book_events.sqlite), oldest first."""
