"""docs/faults.md documents every fault code govbus emits, and only those."""

from __future__ import annotations

import re
from pathlib import Path

from bus.faults import FaultCode

DOC = Path(__file__).resolve().parent.parent / "docs" / "faults.md"


def test_every_fault_code_is_documented():
    assert DOC.exists(), f"{DOC} is missing"
    text = DOC.read_text(encoding="utf-8")
    missing = [
        code.value for code in FaultCode if not re.search(rf"(?<![\w.]){re.escape(code.value)}(?![\w])", text)
    ]
    assert missing == [], f"docs/faults.md does not document {missing}"


def test_docs_name_no_unknown_fault_code():
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    named = set(re.findall(r"(?<![\w.])((?:Client|Server)\.[A-Z][A-Za-z]+)", text))
    assert named <= {code.value for code in FaultCode}, (
        f"unknown codes in docs/faults.md: {named - set(FaultCode)}"
    )
