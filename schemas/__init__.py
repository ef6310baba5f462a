"""XSD contracts shipped as package data: the envelope and one per teleservice."""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path

import lxml.etree as etree


def schema_bytes(name: str) -> bytes:
    """The text of a schema: shipped here by name (``"envelope.xsd"``), or any XSD file by path."""
    if "/" in name or "\\" in name:
        return Path(name).read_bytes()
    return resources.files(__name__).joinpath(name).read_bytes()


_per_thread = threading.local()


def load_schema(name: str) -> etree.XMLSchema:
    """A compiled schema, one per thread (lxml's XMLSchema and its error log are not thread-safe)."""
    schemas = getattr(_per_thread, "schemas", None)
    if schemas is None:
        schemas = _per_thread.schemas = {}
    schema = schemas.get(name)
    if schema is None:
        schema = schemas[name] = _compile(name)
    return schema


def _compile(name: str) -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    if "/" not in name:
        return etree.XMLSchema(etree.fromstring(schema_bytes(name), parser))
    return etree.XMLSchema(etree.fromstring(schema_bytes(name), parser, base_url=str(Path(name).resolve())))
