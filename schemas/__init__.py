"""XSDs as package resources: the bus's own here (envelope, fault, meta, audit), a teleservice's in its package.

A schema is named ``package:resource`` (``teleservices.cnss_attestation:cnss_attestation.xsd``), or by a
bare name for the bus's own schemas shipped in this package (``envelope.xsd``). Names are resolved with
``importlib.resources``, so they work in any installed package; a file path is never a schema name.
"""

from __future__ import annotations

import threading
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import lxml.etree as etree

BUS_PACKAGE = __name__
"""The package that ships the bus's own schemas, where a bare name is looked up."""


class SchemaNotFound(LookupError):
    """No package resource answers to a schema name."""


def split_name(name: str) -> tuple[str, str]:
    """``(package, resource)`` of a schema name; a bare name is one of the bus's own schemas."""
    package, sep, resource = name.rpartition(":")
    if not sep:
        package, resource = BUS_PACKAGE, name
    if not package or not resource or "\\" in resource or resource.startswith("/") or ".." in resource:
        raise SchemaNotFound(f"{name!r} is not a schema name (expected package:resource.xsd)")
    return package, resource


def _resource(name: str) -> Traversable:
    package, resource = split_name(name)
    try:
        root = resources.files(package)
    except (ModuleNotFoundError, TypeError) as error:
        raise SchemaNotFound(f"schema {name}: no package {package} ({error})") from None
    target = root
    for part in resource.split("/"):
        target = target.joinpath(part)
    if not target.is_file():
        raise SchemaNotFound(f"schema {name}: {resource} is not shipped in package {package}")
    return target


def schema_bytes(name: str) -> bytes:
    """The bytes of the schema named ``package:resource`` (or a bare name shipped here)."""
    return _resource(name).read_bytes()


_per_thread = threading.local()


def load_schema(name: str) -> etree.XMLSchema:
    """A compiled schema, one per thread (lxml's XMLSchema and its error log are not thread-safe)."""
    schemas = getattr(_per_thread, "schemas", None)
    if schemas is None:
        schemas = _per_thread.schemas = {}
    schema: etree.XMLSchema | None = schemas.get(name)
    if schema is None:
        schema = schemas[name] = compile_schema(schema_bytes(name), base=_resource(name))
    return schema


def compile_schema(data: bytes, *, base: object = None) -> etree.XMLSchema:
    """Compile XSD bytes with a parser that loads no DTD, entity or network resource.

    ``base`` (a file resource) lets the schema include its siblings by relative location.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    if isinstance(base, Path):
        return etree.XMLSchema(etree.fromstring(data, parser, base_url=str(base)))
    return etree.XMLSchema(etree.fromstring(data, parser))
