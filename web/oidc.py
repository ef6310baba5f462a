"""Sign-in through an external OpenID Connect provider (a national identity service), with authlib.

Authorization code flow with PKCE (S256), ``state`` bound to the visitor's session and used once, and a
``nonce`` checked in the ID token. The ID token is verified with the provider's published keys
(``jwks_uri``): signature, issuer, audience (our client id), expiry, nonce. The citizen is the CIN in
the claim ``identifier_claim``; a first sign-in creates their account (without a password: they always
come through the provider), later ones open it.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.integrations.httpx_client import OAuth2Client  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from web.db import Database

REQUEST_LIFETIME = 600.0
ALGORITHMS = ["RS256", "ES256", "PS256"]


class OidcError(Exception):
    """The provider's answer cannot sign anyone in (the reason is logged, the user sees a generic message)."""


@dataclass(frozen=True, slots=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    identifier_claim: str = "cin"
    name_claim: str = "name"
    scope: str = "openid profile"
    timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class Identity:
    identifier: str
    name: str
    email: str


class OidcLogin:
    def __init__(self, settings: OidcSettings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self._metadata: dict[str, Any] | None = None

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (fetched once)."""
        if self._metadata is None:
            url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
            try:
                document = httpx.get(url, timeout=self.settings.timeout).raise_for_status().json()
            except (httpx.HTTPError, ValueError) as error:
                raise OidcError(f"discovery at {url} failed: {error}") from None
            if document.get("issuer") != self.settings.issuer:
                raise OidcError(
                    f"discovery names issuer {document.get('issuer')!r}, not {self.settings.issuer!r}"
                )
            self._metadata = document
        return self._metadata

    def _client(self, redirect_uri: str) -> OAuth2Client:
        return OAuth2Client(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret,
            scope=self.settings.scope,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=self.settings.timeout,
        )

    def start(self, session_hash: str, redirect_uri: str) -> str:
        """The provider's authorization URL for this session; its state is remembered for the callback."""
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                self.metadata()["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
            )
        now = time.time()
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM oidc_requests WHERE created_at < ?", (now - REQUEST_LIFETIME,))
            conn.execute(
                "INSERT INTO oidc_requests (state, session_hash, nonce, verifier, created_at) VALUES (?, ?, ?, ?, ?)",
                (state, session_hash, nonce, verifier, now),
            )
        return str(url)

    def finish(self, session_hash: str, redirect_uri: str, state: str, code: str) -> Identity:
        """Exchange the code and verify the ID token; the state must be this session's, and is used up."""
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM oidc_requests WHERE state = ? AND session_hash = ?", (state, session_hash)
            ).fetchone()
            conn.execute(
                "DELETE FROM oidc_requests WHERE state = ? AND session_hash = ?", (state, session_hash)
            )
        if row is None or row["created_at"] < time.time() - REQUEST_LIFETIME:
            raise OidcError("unknown, expired or foreign state")
        metadata = self.metadata()
        try:
            with self._client(redirect_uri) as client:
                token = client.fetch_token(
                    metadata["token_endpoint"],
                    code=code,
                    code_verifier=row["verifier"],
                    redirect_uri=redirect_uri,
                )
            keys = KeySet.import_key_set(
                httpx.get(metadata["jwks_uri"], timeout=self.settings.timeout).json()
            )
            decoded = jwt.decode(token["id_token"], keys, algorithms=ALGORITHMS)
            JWTClaimsRegistry(
                iss={"essential": True, "value": self.settings.issuer},
                aud={"essential": True, "value": self.settings.client_id},
                exp={"essential": True},
                nonce={"essential": True, "value": row["nonce"]},
                sub={"essential": True},
            ).validate(decoded.claims)
        except (httpx.HTTPError, JoseError, KeyError, ValueError) as error:
            raise OidcError(f"token exchange or ID token refused: {error!r}") from None
        claims = decoded.claims
        identifier = claims.get(self.settings.identifier_claim)
        if not isinstance(identifier, str) or not identifier:
            raise OidcError(f"the ID token has no {self.settings.identifier_claim!r} claim")
        return Identity(
            identifier,
            str(claims.get(self.settings.name_claim) or identifier),
            str(claims.get("email") or ""),
        )
