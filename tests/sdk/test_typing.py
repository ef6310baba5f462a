"""The SDK is typed for its users: ``py.typed`` ships, and calls type-check against their contract."""

from __future__ import annotations

import tomllib
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[2]

CALL_SITES = """
from sdk import Client
from tests.sdk.echo import ECHO, NOTE, PROVIDER, Ping, Pong


def use(client: Client) -> None:
    pong: Pong = client.call(PROVIDER, ECHO, Ping(text="typed"))
    client.notify(NOTE, Ping(text="typed"))
    wrong_answer: Ping = client.call(PROVIDER, ECHO, Ping(text="typed"))  # line 9
    client.call(PROVIDER, ECHO, Pong(text="a", by="b"))  # line 10
    client.notify(NOTE, Pong(text="n", by="b"))  # line 11
"""


def test_the_sdk_and_the_bus_ship_a_py_typed_marker() -> None:
    assert (ROOT / "sdk" / "py.typed").exists() and (ROOT / "bus" / "py.typed").exists()
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "py.typed" in package_data["sdk"] and "py.typed" in package_data["bus"]


def test_call_and_notify_are_generic_over_the_contract(tmp_path) -> None:
    module = tmp_path / "call_sites.py"
    module.write_text(CALL_SITES)
    out, _, status = api.run(
        ["--strict", "--follow-imports=silent", "--cache-dir", str(tmp_path / "cache"), str(module)]
    )
    errors = sorted(int(line.split(":")[1]) for line in out.splitlines() if ": error:" in line)
    assert status == 1
    assert errors == [9, 10, 11], out
