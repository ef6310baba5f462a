"""The portal's pages, one module per area: accounts, letters, verification, live events."""
