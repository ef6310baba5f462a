"""Attachments stored by content: ``attachments/sha256/ab/cdef...`` under the office directory.

A file's name is its SHA-256 digest, so identical files are stored once and a file's integrity can be
checked on every read: content that no longer matches its digest raises ``AttachmentTampered``.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from teleservices.mail_office.errors import AttachmentMissing, AttachmentTampered

ALGORITHM = "sha256"
_DIGEST = re.compile(r"[0-9a-f]{64}")


class AttachmentStore:
    """Content-addressed files under ``root`` (the office's ``attachments`` directory)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        """Where the file with this SHA-256 digest lives."""
        if not _DIGEST.fullmatch(digest):
            raise ValueError(f"not a SHA-256 hex digest: {digest!r}")
        return self.root / ALGORITHM / digest[:2] / digest[2:]

    def put(self, content: bytes) -> str:
        """Store ``content`` (durably) and return its digest; a damaged copy already there is replaced."""
        digest = hashlib.sha256(content).hexdigest()
        path = self.path(digest)
        if path.is_file() and _digest_of(path) == digest:
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return digest

    def get(self, digest: str) -> bytes:
        """The content stored under ``digest``, checked: ``AttachmentTampered`` if it no longer matches."""
        path = self.path(digest)
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            raise AttachmentMissing(f"attachment {digest} is missing from {path.parent}") from None
        actual = hashlib.sha256(content).hexdigest()
        if actual != digest:
            raise AttachmentTampered(
                f"attachment {path} has been altered: its content hashes to {actual}, not {digest}"
            )
        return content


def _digest_of(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, ALGORITHM).hexdigest()
