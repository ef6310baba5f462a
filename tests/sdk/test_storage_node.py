"""A participant whose stores live in PostgreSQL: two nodes of one provider (as on two hosts) share them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
        assert db.execute("SELECT state FROM handled WHERE id = ?", (header.id,)).fetchall() == [("done",)]
    assert schema_name(str(PROVIDER), "state.sqlite").startswith(participant_prefix(str(PROVIDER)))
