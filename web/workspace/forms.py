"""The letter forms of the workspace (the counter, sending a letter): posted values, uploaded pieces, errors.

Uploaded pieces go through the portal's checks (``web.uploads``: count, size, type by content); their
messages are the portal's English message ids, shown here in French like the workspace's own. A value
the contract refuses (too long, a character XML cannot carry) is a ``FormError`` naming the field, and a
refusal of the office names its code: the page shows the form again with what was typed, never a trace.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pydantic
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from sdk import CallFailed
from teleservices.mail_office import Attachment
from web.accounts import FormError
from web.i18n import N_
from web.security import checked_form
from web.uploads import UploadLimits, attachments_of
from web.workspace.pages import AgentVisit

LIMITS = UploadLimits()


class FieldError(FormError):
    """A workspace form's own refusal, written in French (the workspace is not translated yet; the
    portal's ``FormError`` messages are English message ids of its catalogues)."""


REFUSED = N_("The mail office did not register the letter (%(code)s: %(reason)s).")


async def posted(request: Request, page: AgentVisit) -> FormData:
    """The posted form with its files (403 without the session's CSRF token)."""
    return await checked_form(
        request, page.session, max_files=LIMITS.max_files * 4, max_part_size=LIMITS.max_file_bytes + 1024
    )


async def pieces(form: FormData, name: str) -> list[Attachment]:
    """The files of input ``name`` as checked attachments, or ``FormError``."""
    uploads = [f for f in form.getlist(name) if isinstance(f, UploadFile)]
    files = [(u.filename or "", await u.read(LIMITS.max_file_bytes + 1)) for u in uploads]
    return attachments_of(files, LIMITS)


def one_line(value: str) -> str:
    """A subject or a name as one line, spaces collapsed."""
    return " ".join(value.split())


def text(value: str) -> str | None:
    """A letter's text with its line breaks, or None when empty."""
    return value.replace("\r\n", "\n").strip() or None


@contextmanager
def contract_checked() -> Iterator[None]:
    """Turn the contract's refusal of a value into a ``FormError`` naming the field."""
    try:
        yield
    except pydantic.ValidationError as error:
        where = error.errors()[0]["loc"]
        raise FieldError(
            "This field is too long or contains refused characters.", str(where[0]) if where else None
        ) from None


def refusal(failure: CallFailed | ValueError) -> FormError:
    """The office's (or the bus's) refusal, for the form's error line."""
    code = getattr(failure, "service_code", None) or getattr(failure, "code", None) or "Refus"
    return FieldError(REFUSED, None, code=str(code), reason=getattr(failure, "reason", str(failure)))


def shown(page: AgentVisit, template: str, error: FormError | None, status: int, **context: Any) -> Response:
    """Render a letter form, with ``error`` in the page's language above it and its field marked."""
    message = page._(error.message, **error.values) if error is not None else None
    return page.render(
        template, status, error=message, field=error.field if error is not None else None, **context
    )
