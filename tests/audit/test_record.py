"""The record encoding and chain, re-implemented here from docs/audit-log.md as an auditor would."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bus.audit.record import HASHED_FIELDS, encode_fields, timestamp
from bus.envelope.model import format_timestamp
from tests.audit.builders import Exchange, write_log

SPEC_FIELDS = [
    "seq", "recorded_at", "direction", "outcome", "fault_code", "fault_reason", "mode", "header_origin",
    "message_id", "kind", "client", "service", "user_id", "purpose", "issued", "expires", "correlation_id",
    "request_hash", "size", "sha256", "stored_size", "stored_sha256",
]  # fmt: skip


def spec_encode(values: dict[str, object]) -> bytes:
    out = b"govbus-audit-record/1\n"
    for name in SPEC_FIELDS:
        value = values[name]
        if value is None:
            out += b"\x00"
        elif isinstance(value, int):
            out += b"\x01" + value.to_bytes(8, "big", signed=True)
        else:
            data = str(value).encode("utf-8")
            out += b"\x02" + len(data).to_bytes(4, "big") + data
    return out


def test_the_documented_field_order_is_the_code_order() -> None:
    assert list(HASHED_FIELDS) == SPEC_FIELDS


def test_an_independent_implementation_recomputes_every_hash(tmp_path, home) -> None:
    path = tmp_path / "messages.sqlite"
    write_log(path, home, [Exchange(), Exchange(rejected=True), Exchange(mode="metadata")])
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    head = bytes(32)
    count = 0
    for row in conn.execute("SELECT * FROM records ORDER BY seq"):
        digest = hashlib.sha256(spec_encode(dict(row))).digest()
        head = hashlib.sha256(b"govbus-audit-chain/1\n" + head + digest).digest()
        assert head.hex() == row["hash"]
        if row["raw"] is not None:
            assert hashlib.sha256(row["raw"]).hexdigest() == row["stored_sha256"]
        count += 1
    assert count == 6


def test_encoding_refuses_values_outside_the_three_types() -> None:
    values: list[object] = [None] * len(HASHED_FIELDS)
    values[0] = 1
    values[18] = 1
    values[20] = 0
    encode_fields(values)
    values[0] = "1"
    with pytest.raises(TypeError):
        encode_fields(values)
    values[0] = 1
    values[1] = 2.5
    with pytest.raises(TypeError):
        encode_fields(values)
    with pytest.raises(TypeError):
        encode_fields(values[:-1])


def test_text_and_integer_encodings_are_unambiguous() -> None:
    base: list[object] = [None] * len(HASHED_FIELDS)
    base[0], base[18], base[20] = 1, 0, 0
    one, two = list(base), list(base)
    one[2], one[3] = "ab", "c"
    two[2], two[3] = "a", "bc"
    assert encode_fields(one) != encode_fields(two)
    three = list(base)
    three[18] = -1
    assert encode_fields(three) != encode_fields(base)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 21, 10, 15, 30, 123456, tzinfo=UTC),
        datetime(2026, 1, 1, 0, 0, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 21, 11, 15, 30, 999999, tzinfo=timezone(timedelta(hours=1))),
    ],
)
def test_fast_timestamps_equal_the_wire_format(moment: datetime) -> None:
    assert timestamp(moment) == format_timestamp(moment)
