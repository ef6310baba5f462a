"""TLS settings of an ``amqps://`` connection: the broker verified against the bus CA, and optionally a
client certificate to log in with (SASL EXTERNAL, RabbitMQ's ``rabbitmq_auth_mechanism_ssl`` plugin).

Invariants: the server certificate must chain to the given CA and name the URL's host (no fallback to
the system's CAs, no unverified mode); TLS 1.2 is the lowest version offered. A URL that names a user
keeps its password login (PLAIN) over the verified channel; a URL without one logs in with the client
certificate, whose subject common name is the broker user name.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pika
from pika.credentials import ExternalCredentials


@dataclass(frozen=True, slots=True)
class BrokerTls:
    """The bus CA certificate, and a client certificate and key (PEM files) or none."""

    ca_file: Path
    cert_file: Path | None = None
    key_file: Path | None = None

    def context(self) -> ssl.SSLContext:
        """The client context; a missing file is ``FileNotFoundError``, an unusable one ``ValueError``."""
        try:
            context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(self.ca_file))
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            if self.cert_file is not None:
                context.load_cert_chain(str(self.cert_file), str(self.key_file) if self.key_file else None)
        except ssl.SSLError as error:
            files = ", ".join(str(f) for f in (self.ca_file, self.cert_file, self.key_file) if f is not None)
            raise ValueError(f"unusable TLS files ({files}): {error.reason or error}") from None
        return context

    def apply(self, params: pika.URLParameters, url: str) -> None:
        """Set ``params``' TLS (``amqps://`` only) and, without a user in ``url``, EXTERNAL login."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "amqps":
            return
        params.ssl_options = pika.SSLOptions(self.context(), server_hostname=parts.hostname)
        if not parts.username and self.cert_file is not None:
            params.credentials = ExternalCredentials()
