"""Broker identities: one RabbitMQ user per participant, its permissions derived from the catalogue."""
