"""Requests checked against the contract before anything is stored, as ``InvalidRequest`` naming the field.

Bus payloads are already valid when a handler gets them; these checks cover the Python and CLI entry
points, which pass fields one by one. An attachment's declared digest is checked against its content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

import pydantic

from teleservices.mail_office.errors import AttachmentDigestMismatch, InvalidRequest
from teleservices.mail_office.models import Actor, Attachment, MailPayload, ParticipantId

ACTOR: pydantic.TypeAdapter[str] = pydantic.TypeAdapter(Actor)
PARTICIPANT: pydantic.TypeAdapter[str] = pydantic.TypeAdapter(ParticipantId)
_P = TypeVar("_P", bound=MailPayload)


def _problems(error: pydantic.ValidationError, prefix: str = "") -> str:
    return "; ".join(
        f"{'.'.join([prefix, *map(str, e['loc'])]).strip('.') or 'input'}: {e['msg']}" for e in error.errors()
    )


def checked(model: type[_P], **fields: object) -> _P:
    """The request as its contract model, or ``InvalidRequest`` saying which field does not fit."""
    try:
        return model(**fields)
    except pydantic.ValidationError as error:
        raise InvalidRequest(_problems(error)) from None


def check(adapter: pydantic.TypeAdapter[str], value: str, name: str) -> None:
    """``InvalidRequest`` unless ``value`` fits ``adapter`` (``ACTOR``, ``PARTICIPANT``)."""
    try:
        adapter.validate_python(value)
    except pydantic.ValidationError as error:
        raise InvalidRequest(_problems(error, name)) from None


def check_digests(attachments: Sequence[Attachment]) -> None:
    """``AttachmentDigestMismatch`` for the first attachment whose content does not hash to its digest."""
    for attachment in attachments:
        actual = hashlib.sha256(attachment.content).hexdigest()
        if actual != attachment.sha256:
            raise AttachmentDigestMismatch(
                f"attachment {attachment.name!r} declares SHA-256 {attachment.sha256} but its content "
                f"hashes to {actual}"
            )
