"""Alembic migrations of the message log's schema (SQLite file or PostgreSQL schema): see ``bus.audit.migrate``."""
