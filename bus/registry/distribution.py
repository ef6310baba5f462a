"""The global configuration over the bus: the authority answers, participants fetch it at start.

The authority's ``ConfigurationServer`` consumes the request queue of ``configuration_service(instance)``
and answers every request with the signed configuration it last published.
A participant's ``refresh_configuration`` asks for it and installs it (``bus.registry.configuration``):
nothing in the answer is trusted before its CA signature, expiry and version are checked, so whoever
else answers on the broker can at most withhold a configuration. When no valid newer configuration
arrives, the participant keeps the one it has, as long as that one has not expired.
"""

from __future__ import annotations

import threading
import uuid

import structlog
from cryptography import x509

from bus.faults import Fault
from bus.ids import ServiceId
from bus.pki.home import BusHome
from bus.registry.configuration import (
    GlobalConfiguration,
    configuration_path,
    install,
    load_configuration,
)
from bus.transport.base import ConsumerHandle, Delivery, OutgoingMessage, Transport

log = structlog.get_logger(__name__)

AUTHORITY_CLASS = "BUS"
"""Configuration requests go to ``INSTANCE/BUS/authority/bus.configuration/v1``: the authority's own
service, under a member class the catalogue keeps for the bus itself."""


def configuration_service(instance: str) -> str:
    """The service id the authority answers configuration requests on, for a bus instance (``MA``)."""
    return str(ServiceId.parse(f"{instance}/{AUTHORITY_CLASS}/authority/bus.configuration/v1"))


class ConfigurationServer:
    """Answers configuration requests with ``ca/configuration.xml`` of the authority's home (re-read each time)."""

    def __init__(self, home: BusHome, transport: Transport, instance: str) -> None:
        self.home = home
        self.service = configuration_service(instance)
        self.transport = transport
        self._consumer: ConsumerHandle | None = None

    def start(self) -> None:
        queue = self.transport.declare_service(self.service)[0]
        self._consumer = self.transport.consume(queue, self._answer, prefetch=16, concurrency=1)

    def _answer(self, delivery: Delivery) -> None:
        reply_to = delivery.reply_to
        if not reply_to or not self.transport.topology.is_reply_address(reply_to):
            log.warning("configuration request without a reply address refused")
            delivery.reject()
            return
        try:
            data = configuration_path(self.home).read_bytes()
        except OSError as error:
            log.error("no configuration to serve", reason=str(error))
            delivery.reject()
            return
        self.transport.reply(delivery, OutgoingMessage(data, message_id=str(uuid.uuid4())))
        delivery.ack()

    def stop(self) -> None:
        if self._consumer is not None:
            self._consumer.cancel()
            self._consumer = None


def fetch_configuration(
    transport: Transport, home: BusHome, instance: str, *, timeout: float = 10.0
) -> GlobalConfiguration:
    """Ask the authority of ``instance`` for the configuration and install it; raises the fault that refuses it."""
    request = OutgoingMessage(b"<ConfigurationRequest/>", message_id=str(uuid.uuid4()))
    reply = transport.request(configuration_service(instance), request, timeout=timeout)
    return install(home, reply.body)


def refresh_configuration(
    transport: Transport, home: BusHome, instance: str, *, timeout: float = 10.0
) -> GlobalConfiguration:
    """The configuration a participant starts with: a valid newer one fetched over the bus, else the one it
    has if it has not expired; else the fault (``Server.ConfigurationExpired``, ``...Invalid``, ...)."""
    try:
        configuration = fetch_configuration(transport, home, instance, timeout=timeout)
    except Fault as fault:
        log.error("configuration.refused", fault=str(fault.code), reason=fault.reason)
        path = configuration_path(home)
        if not path.exists():
            raise
        anchor = x509.load_pem_x509_certificate(home.ca_cert.read_bytes())
        try:
            installed = load_configuration(path.read_bytes(), anchor)
        except Fault as unusable:  # expired (or damaged): nothing valid to run with
            raise unusable from None
        log.warning("configuration.kept", version=installed.version, expires=installed.expires.isoformat())
        return installed
    log.info(
        "configuration.installed", version=configuration.version, expires=configuration.expires.isoformat()
    )
    return configuration


class ConfigurationRefresher:
    """Fetches the configuration again every ``interval`` seconds while a participant runs.

    Each newer valid version is installed as at start; the trust store and the catalogue view pick up the
    files they read (CRL, catalogue) by themselves. A refusal is logged and the installed one kept.
    """

    def __init__(self, transport: Transport, home: BusHome, instance: str, *, interval: float) -> None:
        self.transport = transport
        self.home = home
        self.instance = instance
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="govbus-configuration", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                configuration = fetch_configuration(self.transport, self.home, self.instance)
            except Fault as fault:
                log.error("configuration.refused", fault=str(fault.code), reason=fault.reason)
                continue
            log.info("configuration.installed", version=configuration.version)

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=15)
