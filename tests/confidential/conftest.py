"""A test bus whose echo and note services are confidential, on each broker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sdk.testing import TestBus
from tests.sdk.echo import CLIENT, ECHO, FUNDS, NOTE, NOTIFIER, OUTSIDER, PROVIDER


@pytest.fixture
def bus(broker_url: str | None, tmp_path) -> Iterator[TestBus]:
    with TestBus(tmp_path / "bus", broker=broker_url) as test_bus:
        test_bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT], confidential=True)
        test_bus.publish(NOTE, provider=NOTIFIER, clients=FUNDS, confidential=True)
        test_bus.participant(OUTSIDER)
        yield test_bus
