"""``govbus envelope verify --at``: a time without a zone is a usage error; issued times at the edge of the
calendar are faults, never internal errors (issue 12, item 6)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers.pki import CLIENT, PROVIDER

SERVICE = f"{PROVIDER}/cnss.attestation/v1"


@pytest.fixture
def envelope(govbus, fresh_pki, tmp_path: Path) -> Path:
    payload = tmp_path / "payload.xml"
    payload.write_text('<p:x xmlns:p="urn:t">hello</p:x>')
    signed = govbus(
        "envelope", "sign", "--home", fresh_pki.home.root, "--as", CLIENT, "--service", SERVICE, payload
    )
    assert signed.exit_code == 0, signed.output
    path = tmp_path / "envelope.xml"
    path.write_bytes(signed.stdout_bytes)
    return path


def _with_issued(envelope: Path, issued: str) -> Path:
    path = envelope.with_name(f"issued-{abs(hash(issued))}.xml")
    path.write_text(re.sub(r"<issued>[^<]*</issued>", f"<issued>{issued}</issued>", envelope.read_text()))
    return path


def test_a_time_with_a_zone_is_accepted(govbus, fresh_pki, envelope: Path) -> None:
    for at in ("2026-11-21T10:00:00Z", "2026-11-21T11:00:00+01:00", "issued"):
        result = govbus("envelope", "verify", "--home", fresh_pki.home.root, "--at", at, envelope)
        assert result.exit_code in (0, 1), result.output  # valid, or a time-rule fault: never 2 or 3
    assert (
        govbus("envelope", "verify", "--home", fresh_pki.home.root, "--at", "issued", envelope).exit_code == 0
    )


@pytest.mark.parametrize(
    "at", ["2026-11-21T10:00:00", "2026-11-21", "9999-12-31T23:59:59-01:00", "yesterday"]
)
def test_a_time_without_a_zone_or_off_the_calendar_is_a_usage_error(govbus, fresh_pki, envelope, at) -> None:
    result = govbus("envelope", "verify", "--home", fresh_pki.home.root, "--at", at, envelope)
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--at'" in result.stderr and "internal error" not in result.stderr


@pytest.mark.parametrize(
    "issued",
    [
        "9999-12-31T23:59:59.000-01:00",
        "0001-01-01T00:00:00.000+01:00",
        "9999-12-31T23:59:59.999Z",
        "0001-01-01T00:00:00.000Z",
        "2026-11-21T10:00:00.000",
        "not a time",
    ],
)
def test_issued_at_the_edge_of_the_calendar_is_a_fault(
    govbus, fresh_pki, envelope: Path, issued: str
) -> None:
    edge = _with_issued(envelope, issued)
    result = govbus("envelope", "verify", "--home", fresh_pki.home.root, "--at", "issued", edge)
    assert result.exit_code == 1, result.output
    assert re.match(r"Client\.[A-Za-z]+: ", result.stderr), result.stderr


def test_show_escapes_control_and_invisible_characters(govbus, tmp_path: Path) -> None:
    """What an unverified file claims reaches the terminal inert: C1 controls (CSI) and bidi overrides too."""
    path = tmp_path / "claims.xml"
    path.write_text(
        '<Envelope xmlns="urn:govbus:envelope:1"><Header><id>a\u009b31mb\u202e</id></Header>'
        '<Body><p:x xmlns:p="urn:t">evil\u009b2J\u200btext</p:x></Body></Envelope>',
        encoding="utf-8",
    )
    shown = govbus("envelope", "show", path)
    assert shown.exit_code == 0, shown.output
    assert not {"\u009b", "\u202e", "\u200b"} & set(shown.stdout)
    assert "a\\x9b31mb\\u202e" in shown.stdout and "evil\\x9b2J\\u200btext" in shown.stdout
