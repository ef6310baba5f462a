"""Home, registration, sign-in (rate-limited), sign-out, language choice."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from web.accounts import FormError, new_totp_secret, totp_uri
from web.i18n import LANGUAGES, N_
from web.oidc import OidcError
from web.pages import LANG_COOKIE, visit
from web.security import checked_form

log = structlog.get_logger("govbus.web")
OIDC_FAILED = N_("The identity service could not sign you in. Try again, or sign in with your password.")
BASE32 = re.compile(r"[A-Z2-7]{16,64}")
REGISTER_FIELDS = ("kind", "identifier", "name", "representative", "email")


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def home(request: Request) -> Response:
    page = visit(request)
    if page.user is not None:
        return page.finish(redirect("/letters"))
    return page.render("home.html")


async def register(request: Request) -> Response:
    page = visit(request)
    values = {"kind": request.query_params.get("kind", "citizen")}
    if request.method == "POST":
        form = await checked_form(request, page.session)
        values = {name: str(form.get(name, "")) for name in REGISTER_FIELDS}
        try:
            user = await run_in_threadpool(
                page.portal.accounts.register,
                password=str(form.get("password", "")),
                confirm=str(form.get("confirm", "")),
                **values,
            )
        except FormError as error:
            return page.render("register.html", 400, values=values, error=error)
        page.sign_in(user)
        return page.finish(redirect("/letters"))
    return page.render("register.html", values=values, error=None)


async def login(request: Request) -> Response:
    page = visit(request)
    if request.method == "POST":
        form = await checked_form(request, page.session)
        identifier = str(form.get("identifier", ""))[:100]
        keys = (f"id:{identifier.strip().upper()}",)
        address = f"ip:{request.client.host if request.client else '?'}"
        portal = page.portal
        if portal.throttle.blocked(*keys) or portal.address_throttle.blocked(address):
            error = FormError("Too many failed attempts. Wait 15 minutes before trying again.")
            return page.render("login.html", 429, identifier=identifier, error=error)
        user = await run_in_threadpool(
            portal.accounts.authenticate, identifier, str(form.get("password", ""))
        )
        if user is None:
            portal.throttle.failed(*keys)
            portal.address_throttle.failed(address)
            error = FormError("Wrong identifier or password.")
            return page.render("login.html", 400, identifier=identifier, error=error)
        if user.totp:
            page.await_second_factor(user)
            return page.finish(redirect("/login/totp"))
        portal.throttle.succeeded(*keys)
        page.sign_in(user)
        return page.finish(redirect("/letters"))
    return page.render("login.html", identifier="", error=None)


async def login_oidc(request: Request) -> Response:
    """Send the visitor to the identity provider (when one is configured)."""
    page = visit(request)
    oidc = page.portal.oidc
    if oidc is None:
        raise HTTPException(404)
    session = page.ensure_session()
    try:
        url = await run_in_threadpool(oidc.start, session.key, str(request.url_for("oidc_callback")))
    except OidcError as error:
        log.warning("web.oidc_refused", reason=str(error))
        return page.render("login.html", 502, identifier="", error=FormError(OIDC_FAILED))
    return page.finish(RedirectResponse(url, status_code=303))


async def oidc_callback(request: Request) -> Response:
    """The provider sends the visitor back: verify, then sign in (second factor first when the account has one)."""
    page = visit(request)
    oidc = page.portal.oidc
    if oidc is None:
        raise HTTPException(404)
    params = request.query_params
    try:
        if page.session is None or "error" in params or not params.get("state") or not params.get("code"):
            raise OidcError(f"callback without a usable answer: {params.get('error', 'no code')}")
        identity = await run_in_threadpool(
            oidc.finish,
            page.session.key,
            str(request.url_for("oidc_callback")),
            params["state"],
            params["code"],
        )
        user = page.portal.accounts.from_identity_provider(identity.identifier, identity.name, identity.email)
    except OidcError as error:
        log.warning("web.oidc_refused", reason=str(error))
        return page.render("login.html", 400, identifier="", error=FormError(OIDC_FAILED))
    except FormError as error:
        return page.render("login.html", 400, identifier="", error=error)
    if user.totp:
        page.await_second_factor(user)
        return page.finish(redirect("/login/totp"))
    page.sign_in(user)
    return page.finish(redirect("/letters"))


async def login_totp(request: Request) -> Response:
    """The second step of signing in for accounts with TOTP: the code of the authenticator."""
    page = visit(request)
    form = await checked_form(request, page.session) if request.method == "POST" else None
    pending = page.session.pending_user_id if page.session else None
    user = page.portal.accounts.get(pending) if pending is not None else None
    if user is None:
        return page.finish(redirect("/login"))
    if form is not None:
        portal = page.portal
        keys = (f"id:{user.identifier}",)
        if portal.throttle.blocked(*keys):
            error = FormError("Too many failed attempts. Wait 15 minutes before trying again.")
            return page.render("login_totp.html", 429, error=error)
        if not portal.second_factor.check(user.id, str(form.get("code", ""))):
            portal.throttle.failed(*keys)
            return page.render("login_totp.html", 400, error=FormError("Wrong or already used code.", "code"))
        portal.throttle.succeeded(*keys)
        page.sign_in(user)
        return page.finish(redirect("/letters"))
    return page.render("login_totp.html", error=None)


async def my_account(request: Request) -> Response:
    page = visit(request)
    if page.user is None:
        return page.finish(redirect("/login"))
    secret = new_totp_secret()
    return page.render(
        "account.html", secret=secret, uri=totp_uri(secret, page.user), error=None, changed=None
    )


async def totp_setting(request: Request) -> Response:
    """Turn TOTP on (with the new secret and a code from the authenticator) or off (with a code)."""
    page = visit(request)
    form = await checked_form(request, page.session)
    if page.user is None:
        return page.finish(redirect("/login"))
    code = str(form.get("code", ""))
    second_factor = page.portal.second_factor
    if request.url.path.endswith("/enable"):
        secret = str(form.get("secret", ""))
        done = bool(BASE32.fullmatch(secret)) and second_factor.enable(page.user.id, secret, code)
    else:
        secret = new_totp_secret()
        done = second_factor.disable(page.user.id, code)
    if not done:
        error = FormError("Wrong or already used code.", "code")
        return page.render(
            "account.html", 400, secret=secret, uri=totp_uri(secret, page.user), error=error, changed=None
        )
    user = page.portal.accounts.get(page.user.id)
    assert user is not None
    page.user = user
    secret = new_totp_secret()
    return page.render("account.html", secret=secret, uri=totp_uri(secret, user), error=None, changed=True)


async def logout(request: Request) -> Response:
    page = visit(request)
    await checked_form(request, page.session)
    page.sign_out()
    return page.finish(redirect("/"))


def local_path(target: str | None) -> str:
    """``target`` when it is a path on this site, else ``/`` (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else "/"


async def choose_language(request: Request) -> Response:
    code = request.path_params["code"]
    response = redirect(local_path(request.query_params.get("next")))
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, path="/", samesite="lax", httponly=True)
    return response


routes = [
    Route("/", home),
    Route("/register", register, methods=["GET", "POST"]),
    Route("/login", login, methods=["GET", "POST"]),
    Route("/login/totp", login_totp, methods=["GET", "POST"]),
    Route("/login/oidc", login_oidc),
    Route("/login/oidc/callback", oidc_callback, name="oidc_callback"),
    Route("/account", my_account),
    Route("/account/totp/enable", totp_setting, methods=["POST"]),
    Route("/account/totp/disable", totp_setting, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/lang/{code}", choose_language),
]
