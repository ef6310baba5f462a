"""Shared fixtures: which brokers the behaviour tests run against."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from hypothesis import settings

from sdk.storage import Storage
from tests.helpers.storage import DIALECTS, fresh_storage

# CI replays the same examples every run (no new flakiness from fresh random draws); developers' runs
# keep exploring new ones.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI") == "true":
    settings.load_profile("ci")

RABBITMQ_URL = os.environ.get("GOVBUS_TEST_BROKER", "amqp://guest:guest@127.0.0.1:5672/")


@pytest.fixture(params=["memory", "rabbitmq"])
def broker_url(request: pytest.FixtureRequest) -> str | None:
    """None for a fresh embedded broker; the real RabbitMQ URL otherwise."""
    if request.param == "rabbitmq":
        request.applymarker(pytest.mark.rabbitmq)
        return RABBITMQ_URL
    return None


@pytest.fixture(params=DIALECTS)
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """A participant storage on SQLite, then on PostgreSQL (own schemas, dropped after the test)."""
    with fresh_storage(request.param, tmp_path) as where:
        yield where


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """Each test leaves structlog as it found it: a command run in-process (``govbus web`` configures
    WARNING) must not filter out the log lines a later test captures."""
    config = structlog.get_config()
    yield
    structlog.configure(**config)
