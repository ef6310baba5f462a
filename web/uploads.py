"""Attachments from the deposit form: count and size limits, type by content (never by name or browser), digest.

Accepted: PDF, PNG, JPEG (recognised by their magic numbers with ``filetype``) and plain UTF-8 text.
The media type sent to the office is the sniffed one; the SHA-256 is computed here and checked again
by the office on deposit.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import filetype  # type: ignore[import-untyped]

from teleservices.mail_office import Attachment
from web.accounts import FormError

ALLOWED = frozenset({"application/pdf", "image/png", "image/jpeg", "text/plain"})


@dataclass(frozen=True, slots=True)
class UploadLimits:
    max_files: int = 5
    max_file_bytes: int = 5 * 1024 * 1024
    max_total_bytes: int = 10 * 1024 * 1024

    @property
    def max_request_bytes(self) -> int:
        """The largest request body the deposit form may send (files, text and form overhead)."""
        return self.max_total_bytes + 256 * 1024


def sniff(content: bytes) -> str | None:
    """The media type the content really has, among the allowed ones; None otherwise."""
    kind = filetype.guess(content)
    if kind is not None:
        return kind.mime if kind.mime in ALLOWED else None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r\f" for c in text):
        return None
    return "text/plain"


def clean_name(name: str) -> str:
    """A file name without directories or control characters, at most 255 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    return base[:255] or "piece"


def attachments_of(files: list[tuple[str, bytes]], limits: UploadLimits) -> list[Attachment]:
    """Check uploaded (name, content) pairs and make them attachments, or raise ``FormError``."""
    files = [(name, content) for name, content in files if name or content]
    if len(files) > limits.max_files:
        raise FormError("Too many files: at most %(count)d.", "attachments", count=limits.max_files)
    total = 0
    attachments = []
    for name, content in files:
        if not content:
            raise FormError("%(name)s is empty.", "attachments", name=clean_name(name))
        if len(content) > limits.max_file_bytes:
            raise FormError(
                "%(name)s is larger than %(limit)s.",
                "attachments",
                name=clean_name(name),
                limit=_mib(limits.max_file_bytes),
            )
        total += len(content)
        if total > limits.max_total_bytes:
            raise FormError(
                "The files together are larger than %(limit)s.",
                "attachments",
                limit=_mib(limits.max_total_bytes),
            )
        media_type = sniff(content)
        if media_type is None:
            raise FormError(
                "%(name)s: only PDF, PNG, JPEG and plain text files are accepted.",
                "attachments",
                name=clean_name(name),
            )
        attachments.append(Attachment.of(clean_name(name), media_type, content))
    return attachments


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:g} MiB"
