"""``govbus contract``: write a contract's XSD from its payload models, or check that it has not drifted.

A contract module (``teleservices.cnss_attestation.contract``) defines ``RequestReply``/``Notification``
contracts; their payload models are the source of truth. Each schema file they name is generated from
the models of the contracts that name it, in the order the module defines them, plus the models listed in
the module's optional ``SCHEMA_ELEMENTS`` (payloads published as global elements without a contract of
their own). Exit codes: 0 in step (or written), 1 a schema drifts from its models (a unified diff says
how), 2 a module cannot be imported or holds no contract.
"""

from __future__ import annotations

import difflib
import importlib
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import ModuleType

import click
from pydantic_xml import BaseXmlModel

from bus.cli.errors import group
from sdk.contract import Contract, payload_models
from sdk.xsdgen import SchemaGenerationError, generate_xsd

EXIT_DRIFT = 1
EXIT_USAGE = 2
EXTRA_ELEMENTS = "SCHEMA_ELEMENTS"


@dataclass(frozen=True)
class GeneratedSchema:
    """The XSD the models of ``module`` generate for the schema ``name``, and where it lives."""

    module: str
    name: str
    path: Path
    text: bytes

    def diff(self) -> list[str]:
        """A unified diff from the file on disk to the generated text; empty when they agree."""
        current = self.path.read_bytes() if self.path.exists() else b""
        if current == self.text:
            return []
        return list(
            difflib.unified_diff(
                current.decode("utf-8", "replace").splitlines(keepends=True),
                self.text.decode().splitlines(keepends=True),
                fromfile=f"{self.path} (committed)",
                tofile=f"{self.path} (generated from {self.module})",
            )
        )


def schema_path(name: str) -> Path:
    """The file of the schema a contract names: ``package:resource`` (a teleservice's own), a bare name
    shipped in ``schemas/``, or a path."""
    package, sep, resource = name.rpartition(":")
    if sep and package and "/" not in package:
        return Path(str(resources.files(package).joinpath(resource)))
    if "/" in name or "\\" in name:
        return Path(name)
    return Path(str(resources.files("schemas").joinpath(name)))


def contracts_of(module: ModuleType) -> list[Contract]:
    """The contracts a module defines or imports, in definition order."""
    found: dict[int, Contract] = {}
    for value in vars(module).values():
        if isinstance(value, Contract):
            found.setdefault(id(value), value)
        elif isinstance(value, tuple) and all(isinstance(v, Contract) for v in value):
            for contract in value:
                found.setdefault(id(contract), contract)
    return list(found.values())


def generated_schemas(module_name: str) -> list[GeneratedSchema]:
    """One generated XSD per schema the module's contracts name."""
    module = importlib.import_module(module_name)
    contracts = contracts_of(module)
    if not contracts:
        raise LookupError(f"{module_name} defines no contract")
    roots: dict[str, list[type[BaseXmlModel]]] = {}
    for contract in contracts:
        inbound, outbound = payload_models(contract)
        roots.setdefault(contract.schema, []).extend((inbound, outbound))
    extra: Iterable[type[BaseXmlModel]] = getattr(module, EXTRA_ELEMENTS, ())
    generated = []
    for name, models in roots.items():
        source = sys.modules[models[0].__module__]
        header = (
            f"Generated from the payload models of {source.__name__} by 'govbus contract generate'.\n"
            "  Do not edit: change the models and generate again ('govbus contract check' finds drift)."
        )
        text = generate_xsd([*models, *extra], header=header, documentation=source.__doc__ or "")
        generated.append(GeneratedSchema(module_name, name, schema_path(name), text))
    return generated


def _generated(modules: tuple[str, ...]) -> list[GeneratedSchema]:
    if os.getcwd() not in sys.path:  # modules of the current project, as 'govbus run' finds them
        sys.path.insert(0, os.getcwd())
    schemas = []
    for module in modules:
        try:
            schemas.extend(generated_schemas(module))
        except (ImportError, LookupError) as error:
            click.echo(f"govbus: {module}: {error}", err=True)
            sys.exit(EXIT_USAGE)
        except SchemaGenerationError as error:
            click.echo(f"govbus: {module}: the models have no XSD form: {error}", err=True)
            sys.exit(EXIT_USAGE)
    return schemas


@group()
def contract() -> None:
    """Teleservice contracts: the XSD is generated from the payload models, never edited by hand."""


@contract.command()
@click.argument("modules", nargs=-1, required=True, metavar="MODULE...")
def generate(modules: tuple[str, ...]) -> None:
    """Write the XSD of every contract in MODULE (e.g. teleservices.cnss_attestation.contract)."""
    for schema in _generated(modules):
        if schema.diff():
            schema.path.write_bytes(schema.text)
            click.echo(f"written: {schema.path}")
        else:
            click.echo(f"unchanged: {schema.path}")


@contract.command()
@click.argument("modules", nargs=-1, required=True, metavar="MODULE...")
def check(modules: tuple[str, ...]) -> None:
    """Exit 1 with a diff when an XSD differs from what MODULE's models generate."""
    drifted = 0
    for schema in _generated(modules):
        diff = schema.diff()
        if diff:
            drifted += 1
            click.echo(f"drift: {schema.path} differs from the models of {schema.module}:")
            click.echo("".join(diff), nl=False)
        else:
            click.echo(f"in step: {schema.path}")
    if drifted:
        click.echo(f"{drifted} schema(s) drift: run 'govbus contract generate' and commit", err=True)
        sys.exit(EXIT_DRIFT)
