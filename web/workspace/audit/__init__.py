"""The auditor console: message logs verified in the background, searched, exported as evidence."""
