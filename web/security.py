"""HTTP security for every response, and the checks every state-changing form goes through.

- ``SecurityHeaders``: a Content-Security-Policy without inline scripts or styles, no framing, no
  sniffing, no referrer, HSTS over https; pages are never cached (they show personal data).
- ``BodyLimit``: a request body larger than the limit is refused (413) before it is read.
- ``checked_form``: parses a POSTed form within limits and refuses it (403) unless it carries the
  session's CSRF token.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.sessions import Session

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
CSRF_FIELD = "csrf"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    h for h in message.get("headers", []) if h[0].lower() != b"cache-control" or static
                ]
                headers += HEADERS
                if https:
                    headers.append(HSTS)
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes: by Content-Length at once, else while they stream."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope.get("headers", []) if k == b"content-length"), b"0")
        seen = 0

        async def limited() -> Message:
            """Raised inside the endpoint reading the body, so the 413 gets the readable error page."""
            nonlocal seen
            if declared.isdigit() and int(declared) > self.limit:
                raise HTTPException(413)
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise HTTPException(413)
            return message

        await self.app(scope, limited, send)


async def checked_form(
    request: Request, session: Session | None, *, max_files: int = 0, max_part_size: int = 1024 * 1024
) -> FormData:
    """The POSTed form, or 403 when it lacks this session's CSRF token (or there is no session)."""
    form = await request.form(max_files=max_files, max_fields=40, max_part_size=max_part_size)
    token = form.get(CSRF_FIELD)
    if session is None or not isinstance(token, str) or not session.csrf_matches(token):
        raise HTTPException(403, "csrf")
    return form
