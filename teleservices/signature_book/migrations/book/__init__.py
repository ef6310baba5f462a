"""Schema revisions of the signature book (book.db), oldest first."""
