"""The composition root: builds a complete ``Node`` in one explicit order.

identity -> trust -> catalogue -> message log (and the anchor queue it feeds) -> idempotency ->
transport -> receipt inbox -> node -> anchoring started. Each step gets only what the earlier ones
built; if a step fails, what was opened before it is closed again and nothing half-built escapes.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path

from bus.broker.identity import broker_options
from bus.envelope import EnvelopeVerifier
from bus.envelope.replay import MemoryReplayCache
from bus.ids import ParticipantId
from bus.pki import BusHome, SigningIdentity, TrustStore
from bus.pki.keyring import EncryptionKeys
from bus.pki.token import Pkcs11Token
from bus.registry.distribution import ConfigurationRefresher, refresh_configuration
from bus.registry.store import CatalogueView
from bus.transport import connect
from bus.transport.base import Transport
from sdk.anchoring import AnchorSender, anchor_service
from sdk.context import Scope
from sdk.exchange import call_anchor
from sdk.idempotency import SqliteIdempotencyStore
from sdk.idempotency_postgres import PostgresIdempotencyStore
from sdk.journal import Journal, MessageRecorder
from sdk.messagelog import LogSettings, open_message_log
from sdk.node import Node
from sdk.postgres import PostgresDatabase
from sdk.receipts import ReceiptInbox
from sdk.resources import Resources
from sdk.sealing import Sealing
from sdk.state import STATE_FILE
from sdk.storage import Storage, resolve_storage_url

DEFAULT_REFRESH_SECONDS = 900.0
"""How often a node that fetched the global configuration at start fetches it again."""


def open_node(
    participant: ParticipantId | str,
    *,
    home: BusHome | str | Path,
    broker: str | Transport = "memory://",
    prefix: str = "govbus",
    recorder: MessageRecorder | None = None,
    checkpoint_interval: float | None = None,
    service_modes: Mapping[str, str] | None = None,
    synchronous: str | None = None,
    storage: str | None = None,
    fetch_configuration: bool = False,
    configuration_interval: float = DEFAULT_REFRESH_SECONDS,
) -> Node:
    """A started node of ``participant`` (close it, or use it as a context manager).

    ``broker`` is a URL (the node opens and closes its own connection) or a shared transport.
    ``checkpoint_interval``, ``service_modes`` and ``synchronous`` set the message log (see
    ``sdk.messagelog``); ``recorder`` replaces the message log (then nothing is anchored).
    ``storage`` is the storage URL (``sqlite:``, the default, or ``postgresql://...``; else
    ``GOVBUS_STORAGE``): see ``sdk.storage``. With ``fetch_configuration`` the node first fetches the
    authority's signed global configuration over the broker and installs it (CRL, catalogue, encryption
    certificates), or starts with the one it has if that one has not expired; else it does not start
    (``Server.ConfigurationExpired``, ...), and fetches it again every ``configuration_interval``
    seconds while it runs: see ``bus.registry.distribution``.
    """
    pid = participant if isinstance(participant, ParticipantId) else ParticipantId.parse(participant)
    bus_home = home if isinstance(home, BusHome) else BusHome.at(home)
    settings = LogSettings.resolve(
        checkpoint_interval=checkpoint_interval, service_modes=service_modes, synchronous=synchronous
    )
    with ExitStack() as opened:
        transport: Transport | None = None if isinstance(broker, str) else broker
        if fetch_configuration:
            if transport is None:
                transport = connect(str(broker), prefix=prefix, **broker_options(str(broker), bus_home, pid))
                opened.callback(transport.close)
            refresh_configuration(transport, bus_home, pid.instance)
            refresher = ConfigurationRefresher(
                transport, bus_home, pid.instance, interval=configuration_interval
            )
            refresher.start()
            opened.callback(refresher.close)
        token = Pkcs11Token.from_environment()
        if token is not None and not token.holds(pid):  # another participant's token: keys on disk
            token.close()
            token = None
        if token is not None:  # the keys stay on the token named by $GOVBUS_PKCS11_*
            opened.callback(token.close)
            identity = SigningIdentity.from_token(token, pid, bus_home.participant_cert(pid).read_bytes())
        else:
            identity = SigningIdentity.from_home(bus_home, pid)
        trust = TrustStore.from_home(bus_home)
        catalogue_view = CatalogueView(bus_home)
        data_dir = bus_home.participant_dir(pid)
        where = Storage(data_dir, str(pid), resolve_storage_url(storage))
        anchor: AnchorSender | None = None
        if recorder is None:
            service = anchor_service(catalogue_view.current, pid)
            anchor = AnchorSender(pid, service) if service is not None else None
            log = open_message_log(
                data_dir,
                identity,
                settings,
                on_checkpoint=anchor.submit if anchor is not None else None,
                storage=where,
            )
            opened.callback(log.close)
            recorder = log
        handled = open_idempotency(where)
        opened.callback(handled.close)
        if transport is None:
            transport = connect(str(broker), prefix=prefix, **broker_options(str(broker), bus_home, pid))
            opened.callback(transport.close)
        journal = Journal(pid, recorder)
        scope = Scope(pid, data_dir, catalogue_view, Resources(), where)
        sealing = Sealing(pid, catalogue_view, EncryptionKeys(bus_home, pid, trust, token=token))
        inbox = ReceiptInbox(
            scope=scope,
            transport=transport,
            verifier=EnvelopeVerifier(trust, replay_cache=MemoryReplayCache()),
            journal=journal,
            sealing=sealing,
        )
        opened.callback(inbox.close)
        if anchor is not None:
            opened.callback(anchor.close)
        closers = opened.pop_all()
        node = Node(
            home=bus_home,
            identity=identity,
            trust=trust,
            catalogue_view=catalogue_view,
            journal=journal,
            handled=handled,
            transport=transport,
            inbox=inbox,
            scope=scope,
            anchor_sender=anchor,
            closers=[closers.close],
            sealing=sealing,
        )
    if anchor is not None:
        latest = getattr(recorder, "latest_checkpoint", lambda: None)()
        if latest is not None:
            anchor.submit(latest)  # the final checkpoint of the last run, if not yet anchored
        anchor.start(call_anchor(node))
    return node


IDEMPOTENCY_FILE = STATE_FILE


def open_idempotency(where: Storage) -> SqliteIdempotencyStore | PostgresIdempotencyStore:
    """The participant's idempotency store: ``state.sqlite`` in its directory, or its ``state`` schema."""
    if where.dialect == "sqlite":
        return SqliteIdempotencyStore(where.data_dir / IDEMPOTENCY_FILE)
    database = where.database(IDEMPOTENCY_FILE)
    assert isinstance(database, PostgresDatabase)
    return PostgresIdempotencyStore(database)


__all__ = ["open_idempotency", "open_node"]
