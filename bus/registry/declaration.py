"""A whole catalogue declared in one TOML file: participants, services and who may use them.

``govbus registry apply FILE`` turns the file into the draft: the draft becomes exactly what the file
declares (a service or grant the file no longer names is removed), so applying the same file twice
changes nothing. Each ``[[services]]`` table publishes every code for every provider it names, with one
schema, and grants each client the right the style implies (call, or subscribe to a notification)::

    instance = "MA"                                  # optional: the providers' instance by default

    [participants]                                   # optional display names
    "MA/GOV/MEF/bureau-ordre" = "Bureau d'ordre du MEF"

    [[services]]
    providers = ["MA/GOV/MEF/bureau-ordre"]          # or provider = "..."
    codes = ["mail.assign", "mail.show"]             # or code = "..."
    version = 1                                      # default 1
    style = "request-reply"                          # or "notification"; default request-reply
    schema = "mail_office.xsd"                       # name, package:resource, or path from this file
    description = "..."                              # optional
    clients = ["MA/GOV/MEF/desk"]                    # optional

Every schema is read and compiled, and its SHA-256 digest recorded (``SchemaRefused`` otherwise).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pydantic

from bus.faults import Fault
from bus.ids import ParticipantId, ServiceId
from bus.registry.catalogue import Catalogue, Grant, Right, ServiceEntry, ServiceStyle
from bus.registry.schema import checked_digest, read_schema


class DeclarationError(ValueError):
    """The declaration file cannot be read or does not describe a valid catalogue."""


class _Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


class ServiceBlock(_Strict):
    """One ``[[services]]`` table: providers x codes, one schema, granted to the clients."""

    provider: str | None = None
    providers: list[str] = []
    code: str | None = None
    codes: list[str] = []
    version: int = pydantic.Field(default=1, ge=1)
    style: ServiceStyle = ServiceStyle.REQUEST_REPLY
    schema_: str = pydantic.Field(alias="schema")
    description: str = ""
    clients: list[str] = []
    confidential: bool = False

    def all_providers(self) -> list[str]:
        return [*([self.provider] if self.provider else []), *self.providers]

    def all_codes(self) -> list[str]:
        return [*([self.code] if self.code else []), *self.codes]


class Declaration(_Strict):
    """The whole file."""

    instance: str | None = None
    participants: dict[str, str] = {}
    services: list[ServiceBlock] = []


def read_declaration(path: Path) -> Declaration:
    try:
        return Declaration.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except OSError as error:
        raise DeclarationError(f"{path}: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise DeclarationError(f"{path}: not TOML: {error}") from None
    except pydantic.ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in error.errors()
        )
        raise DeclarationError(f"{path}: {problems}") from None


def declared_catalogue(declaration: Declaration, *, base: Path) -> Catalogue:
    """The catalogue (version 0) the declaration describes; schema paths are relative to ``base``."""
    try:
        return _build(declaration, base)
    except Fault as fault:  # a malformed identifier
        raise DeclarationError(f"{fault.code}: {fault.reason}") from None


def _build(declaration: Declaration, base: Path) -> Catalogue:
    providers = [p for block in declaration.services for p in block.all_providers()]
    named = list(declaration.participants)
    first = [*providers, *named][:1]
    instance = declaration.instance or (ParticipantId.parse(first[0]).instance if first else None)
    if instance is None:
        raise DeclarationError("declare an instance, a participant or a service")
    catalogue = Catalogue(instance=instance)
    for participant, name in declaration.participants.items():
        catalogue = catalogue.with_participant(ParticipantId.parse(participant), name)
    digests: dict[str, str] = {}
    for number, block in enumerate(declaration.services, 1):
        if not block.all_providers() or not block.all_codes():
            raise DeclarationError(f"services #{number}: give at least one provider and one code")
        if block.schema_ not in digests:
            digests[block.schema_] = checked_digest(block.schema_, read_schema(block.schema_, base=base))
        right = Right.SUBSCRIBE if block.style is ServiceStyle.NOTIFICATION else Right.CALL
        for provider in block.all_providers():
            for code in block.all_codes():
                service = ServiceId.of(ParticipantId.parse(provider), code, block.version)
                if service in catalogue.services:
                    raise DeclarationError(f"services #{number}: {service} is declared twice")
                entry = ServiceEntry(
                    service,
                    block.style,
                    block.schema_,
                    block.description,
                    digests[block.schema_],
                    confidential=block.confidential,
                )
                catalogue = catalogue.with_service(entry)
                for client in block.clients:
                    catalogue = catalogue.with_grant(Grant(ParticipantId.parse(client), service, right))
    return catalogue
