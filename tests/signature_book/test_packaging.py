"""signxml is the signature book's optional dependency: the bus and the SDK run without it."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_signxml_is_an_extra_of_the_signature_book_only() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not any(d.startswith("signxml") for d in project["dependencies"])
    assert any(d.startswith("signxml") for d in project["optional-dependencies"]["signature-book"])


def test_the_bus_the_sdk_and_the_other_teleservices_do_not_import_signxml() -> None:
    code = (
        "import sys, bus.cli.main, sdk, sdk.testing, teleservices.mail_office, teleservices.death_notice,"
        " teleservices.cnss_attestation, teleservices.audit_anchor; print(sorted(m for m in sys.modules"
        " if m.split('.')[0] == 'signxml'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "[]"
