"""XSD contracts shipped as package data: the envelope and one per teleservice."""

from __future__ import annotations

from functools import cache
from importlib import resources

import lxml.etree as etree


def schema_bytes(name: str) -> bytes:
    """The raw text of a shipped schema, e.g. ``schema_bytes("envelope.xsd")``."""
    return resources.files(__name__).joinpath(name).read_bytes()


@cache
def load_schema(name: str) -> etree.XMLSchema:
    """A compiled schema from this package (compiled once per process)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.fromstring(schema_bytes(name), parser))
