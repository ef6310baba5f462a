"""A service's XSD as the catalogue records it: found, compiled, and identified by its SHA-256 digest.

The catalogue names a schema (``cnss_attestation.xsd``, ``package.module:file.xsd`` or a path) and
records the SHA-256 hex of its bytes. The authority refuses to publish a service whose schema it cannot
read or that is not a valid XSD (``SchemaRefused``).
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

import lxml.etree as etree

from bus.faults import Fault
from bus.xml import parse_untrusted

_SHIPPED = "schemas"
"""The package that ships the bus's own schemas, where a bare name is looked up."""


class SchemaRefused(ValueError):
    """The schema of a service cannot be found or is not a valid XSD."""


def schema_digest(data: bytes) -> str:
    """SHA-256 hex of an XSD's bytes, as the catalogue records it."""
    return hashlib.sha256(data).hexdigest()


def is_digest(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def read_schema(name: str, *, base: Path | None = None) -> bytes:
    """The bytes of the schema ``name``: a file path (relative to ``base``), ``package:resource``, or a
    bare name shipped in ``schemas/``."""
    try:
        if "/" in name or "\\" in name:
            path = Path(name)
            return (base / path if base is not None and not path.is_absolute() else path).read_bytes()
        if ":" in name:
            package, _, resource = name.partition(":")
            return resources.files(package).joinpath(resource).read_bytes()
        return resources.files(_SHIPPED).joinpath(name).read_bytes()
    except (OSError, ModuleNotFoundError, ValueError) as error:
        raise SchemaRefused(f"schema {name} not found: {error}") from None


def checked_digest(name: str, data: bytes) -> str:
    """The digest of ``data`` once it parsed (hardened parser) and compiled as an XSD."""
    try:
        etree.XMLSchema(parse_untrusted(data))
    except Fault as fault:
        raise SchemaRefused(f"schema {name}: {fault.reason}") from None
    except etree.XMLSchemaParseError as error:
        raise SchemaRefused(f"schema {name} is not a valid XSD: {error}") from None
    return schema_digest(data)
