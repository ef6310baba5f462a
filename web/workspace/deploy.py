"""The workspace on a real bus: ``govbus web --broker amqp://... --workspace FILE``.

The workspace file (TOML, read with pydantic-settings; unknown keys are an error) says which offices'
desk systems this web server acts as, the signature book and each signer's signatory participant, and
the workers' metrics endpoints for the authority console::

    signature_book = "MA/GOV/SIGN/parapheur"          # optional: no signature book pages without it

    [offices."MA/GOV/MEF/bureau-ordre"]
    desk = "MA/GOV/MEF/desk"                          # the desk system's participant id
    name = "Ministère de l'Économie et des Finances"
    services = ["rh", "fiscalite"]

    [signers]                                         # agent login -> their signatory participant
    "mef.signataire" = "MA/GOV/MEF/sg"

    [workers]                                         # name -> metrics endpoint (govbus run --metrics-port)
    "mef-office" = "http://127.0.0.1:9400"

Invariants: every desk and signatory participant is listed in the bus's signed catalogue and has its
signing key and certificate in the home, else ``WorkspaceConfigError`` names it before anything is
served; each such participant gets its own node (its own connection), closed by ``DeployedWorkspace.close``.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bus.ids import ParticipantId
from bus.pki import SigningIdentity
from bus.pki.home import BusHome
from bus.registry.store import CatalogueView
from sdk import Client, open_node
from teleservices.signature_book import DetachedXadesSigner
from web.db import Database
from web.workspace.app import Workspace
from web.workspace.authority.settings import BusAccess

WORKSPACE_ENV = "GOVBUS_WORKSPACE"


class WorkspaceConfigError(Exception):
    """The workspace file is unreadable, or names a participant this server cannot act as."""


class OfficeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    desk: str = Field(min_length=1)
    """The participant id of the office's desk system (its key is in the bus home)."""
    name: str | None = None
    services: list[str] = Field(default_factory=list)


class WorkspaceSettings(BaseSettings):
    """The workspace file's content; see the module docstring."""

    model_config = SettingsConfigDict(extra="forbid")
    toml_path: ClassVar[Path | None] = None

    offices: dict[str, OfficeSettings] = Field(default_factory=dict)
    signature_book: str | None = None
    signers: dict[str, str] = Field(default_factory=dict)
    workers: dict[str, str] = Field(default_factory=dict)
    anchors: Path | None = None
    """The audit participant's ``anchors.sqlite`` (None: the anchors' status is not shown)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: tuple[PydanticBaseSettingsSource, ...] = (init_settings,)
        if cls.toml_path is not None:
            sources += (TomlConfigSettingsSource(settings_cls, toml_file=cls.toml_path),)
        return sources


def load_workspace_settings(path: Path) -> WorkspaceSettings:
    """The settings of the workspace file ``path``; ``WorkspaceConfigError`` when unreadable or invalid."""
    if not path.is_file():
        raise WorkspaceConfigError(f"workspace file {path} does not exist")
    settings_cls = type("FileWorkspaceSettings", (WorkspaceSettings,), {"toml_path": path})
    try:
        return settings_cls()  # type: ignore[no-any-return]
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'settings'}: {item['msg']}"
            for item in error.errors()
        )
        raise WorkspaceConfigError(f"invalid workspace file {path}: {problems}") from None
    except (OSError, ValueError) as error:
        raise WorkspaceConfigError(f"cannot read workspace file {path}: {error}") from None


@dataclass
class DeployedWorkspace:
    """The workspace and the nodes its desk and signatory clients run on."""

    workspace: Workspace
    stack: ExitStack = field(default_factory=ExitStack)

    def close(self) -> None:
        self.stack.close()


def _checked(
    home: BusHome, catalogue: CatalogueView, participant: str, what: str, *, own: bool = True
) -> ParticipantId:
    """``participant`` parsed, listed in the signed catalogue and, when this server acts as it (``own``),
    with its key and certificate in ``home``."""
    try:
        pid = ParticipantId.parse(participant)
    except ValueError:
        raise WorkspaceConfigError(f"{what}: {participant!r} is not a participant id") from None
    if pid not in catalogue.current.participants:
        raise WorkspaceConfigError(f"{what}: {pid} is not a participant of the bus's signed catalogue")
    for path in (home.participant_key(pid), home.participant_cert(pid)) if own else ():
        if not path.is_file():
            raise WorkspaceConfigError(f"{what}: no {path.name} for {pid} in the bus home ({path})")
    return pid


@dataclass(frozen=True)
class CheckedParticipants:
    """What a workspace file names, checked against the home (see ``check_workspace``)."""

    catalogue: CatalogueView
    desks: dict[str, ParticipantId]
    signers: dict[str, ParticipantId]
    book: ParticipantId | None


def check_workspace(settings: WorkspaceSettings, home: BusHome) -> CheckedParticipants:
    """Every participant of ``settings`` checked against ``home``, without the broker (``govbus web`` does
    this before connecting anything). ``WorkspaceConfigError`` naming the first bad one."""
    try:
        catalogue = CatalogueView(home)
    except (OSError, ValueError) as error:
        raise WorkspaceConfigError(f"no readable signed catalogue in {home.root}: {error}") from None
    desks = {
        str(_checked(home, catalogue, office, "office", own=False)): _checked(
            home, catalogue, config.desk, f"desk of {office}"
        )
        for office, config in settings.offices.items()
    }
    signers = {
        login: _checked(home, catalogue, participant, f"signer {login}")
        for login, participant in settings.signers.items()
    }
    book = (
        _checked(home, catalogue, settings.signature_book, "signature book", own=False)
        if settings.signature_book
        else None
    )
    if signers and book is None:
        raise WorkspaceConfigError("signers are configured without a signature_book")
    return CheckedParticipants(catalogue, desks, signers, book)


def open_workspace(
    settings: WorkspaceSettings, db: Database, *, home: BusHome, broker: str, prefix: str
) -> DeployedWorkspace:
    """The workspace of ``settings`` on the bus in ``home``: every participant checked first, then one
    node each. ``WorkspaceConfigError`` for a bad participant (nothing is left open)."""
    from web.workspace.signing.book import Signatory

    checked = check_workspace(settings, home)
    catalogue, desks, signers, book = checked.catalogue, checked.desks, checked.signers, checked.book
    stack = ExitStack()
    clients: dict[ParticipantId, Client] = {}

    def client(pid: ParticipantId) -> Client:
        if pid not in clients:
            clients[pid] = Client(
                node=stack.enter_context(open_node(pid, home=home, broker=broker, prefix=prefix))
            )
        return clients[pid]

    try:
        workspace = Workspace(
            db,
            desks={office: client(desk) for office, desk in desks.items()},
            catalogue=lambda: catalogue.current,
            offices={office: config.name or office for office, config in settings.offices.items()},
            services={office: tuple(config.services) for office, config in settings.offices.items()},
            bus=BusAccess(
                home, broker=broker, prefix=prefix, workers=dict(settings.workers), anchors=settings.anchors
            ),
            signers={
                login: Signatory(client(pid), DetachedXadesSigner(SigningIdentity.from_home(home, pid)))
                for login, pid in signers.items()
            },
            signature_book=str(book) if book is not None else None,
        )
    except BaseException:
        stack.close()
        raise
    return DeployedWorkspace(workspace, stack)
