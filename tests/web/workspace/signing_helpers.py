"""Shared by the signature book's workspace tests: a real one-page PDF, submitting a folder, finding one."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from .conftest import csrf

FOLDER = re.compile(r"/workspace/sign/folders/([0-9a-f-]{36})")


def one_page_pdf(text: str = "Arrete de nomination") -> bytes:
    """A small valid PDF (one A4 page, one line of Helvetica), with a correct cross-reference table."""
    stream = f"BT /F1 24 Tf 72 760 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def submit_folder(
    client: TestClient,
    title: str,
    steps: list[tuple[str, str, list[str]]],
    files: list[tuple[str, bytes, str]] | None = None,
):  # type: ignore[no-untyped-def]
    """POST the circuit form: ``steps`` are (kind, quorum, signatory participants)."""
    data: dict[str, object] = {
        "csrf": csrf(client, "/workspace/sign/new"),
        "title": title,
        "business_type": "hr",
    }
    for number, (kind, quorum, signatories) in enumerate(steps, 1):
        data[f"step{number}_kind"] = kind
        data[f"step{number}_quorum"] = quorum
        data[f"step{number}_signatories"] = signatories
    files = files if files is not None else [("arrete.pdf", one_page_pdf(), "application/pdf")]
    return client.post("/workspace/sign/new", data=data, files=[("documents", f) for f in files])


def submitted_folder(client: TestClient, title: str, steps: list[tuple[str, str, list[str]]]) -> str:
    response = submit_folder(client, title, steps)
    assert response.status_code == 303, response.text
    match = FOLDER.search(response.headers["location"])
    assert match
    return match.group(1)


def do(client: TestClient, folder: str, action: str, **fields: str):  # type: ignore[no-untyped-def]
    token = csrf(client, "/workspace/")
    return client.post(f"/workspace/sign/folders/{folder}/do/{action}", data={"csrf": token, **fields})
