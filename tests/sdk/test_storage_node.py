"""A participant whose stores live in PostgreSQL: two nodes of one provider (as on two hosts) share them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bus.audit.export import export_postgres_log, postgres_location
from bus.audit.trustfiles import TrustFiles
from bus.audit.verify import verify_log
from bus.envelope import Header, MessageKind
from bus.transport.base import OutgoingMessage
from sdk.contract import encode
from sdk.postgres import drop_schemas
from sdk.storage import STORAGE_ENV, participant_prefix, schema_name
from sdk.testing import TestBus
from tests.helpers.storage import POSTGRES_URL
from tests.sdk.echo import CLIENT, ECHO, PROVIDER, EchoService, Ping


@pytest.fixture
def pg_bus(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestBus]:
    monkeypatch.setenv(STORAGE_ENV, POSTGRES_URL)
    with TestBus(tmp_path / "bus") as bus:
        bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT])
        try:
            yield bus
        finally:
            bus.close()
            for participant in (PROVIDER, CLIENT):
                drop_schemas(POSTGRES_URL, participant_prefix(participant))


def test_a_request_redelivered_to_the_other_host_is_answered_from_the_shared_store(pg_bus: TestBus) -> None:
    service = EchoService()
    pg_bus.start(service.app)
    pg_bus.start(service.app)  # the same provider on a second node: a second host
    node = pg_bus.node(CLIENT)
    header = Header.new(MessageKind.REQUEST, node.participant, ECHO.service_of(PROVIDER))
    message = OutgoingMessage(node.sign(header, encode(Ping(text="once"), ECHO.schema)), message_id=header.id)
    answers = [
        pg_bus.transport.request(str(ECHO.service_of(PROVIDER)), message, timeout=10) for _ in range(4)
    ]
    assert service.seen == ["once"]
    assert len({answer.body for answer in answers}) == 1
    with pg_bus.node(PROVIDER).scope.storage.database("state.sqlite").transaction() as db:
        claim = f"{header.client} {header.id}"  # the idempotency key is sender and id (see sdk.inbound)
        assert db.execute("SELECT state FROM handled WHERE id = ?", (claim,)).fetchall() == [("done",)]
    assert schema_name(str(PROVIDER), "state.sqlite").startswith(participant_prefix(str(PROVIDER)))


def test_both_hosts_append_to_one_message_log_in_postgresql(pg_bus: TestBus, tmp_path) -> None:
    service = EchoService()
    first = pg_bus.start(service.app)
    second = pg_bus.start(service.app)
    client = pg_bus.client(CLIENT)
    for index in range(6):
        client.call(PROVIDER, ECHO, Ping(text=f"n{index}"), timeout=10)
    first.stop()
    second.stop()
    pg_bus.close()
    provider_dir = pg_bus.home.participant_dir(PROVIDER)
    assert not (provider_dir / "messages.sqlite").exists()
    copy = export_postgres_log(postgres_location(POSTGRES_URL, str(PROVIDER)), tmp_path / "provider.sqlite")
    report = verify_log([copy], TrustFiles.from_home(pg_bus.home))
    assert report.ok, report.problems
    assert report.records >= 12  # each call: the request received and the response sent
