"""How a participant connects to the broker: as itself (a provisioned bus) or with a shared login.

A participant uses its own broker identity when the broker URL names it as the user (password login)
or is an ``amqps://`` URL without a user (its certificate logs it in). Then its connection verifies the
broker against the bus CA, and takes its replies through the replies exchange (it may not publish to the
default exchange). Any other URL (``guest``, an administrator) connects as before.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from bus.ids import ParticipantId
from bus.pki.home import BusHome
from bus.transport.rabbitmq.tls import BrokerTls
from bus.transport.urls import split_broker_urls


def broker_options(url: str, home: BusHome, participant: ParticipantId) -> dict[str, Any]:
    """The ``connect`` options of ``participant`` for ``url``: ``tls`` and ``participant`` when they apply."""
    try:
        parts = urlsplit(split_broker_urls(url)[0])  # a cluster's addresses share scheme and user
    except ValueError:
        return {}
    scheme = parts.scheme.lower()
    if scheme not in ("amqp", "amqps"):
        return {}
    user = unquote(parts.username) if parts.username else None
    options: dict[str, Any] = {}
    if scheme == "amqps":
        if user is None:
            options["tls"] = BrokerTls(
                home.ca_cert, home.participant_cert(participant), home.participant_key(participant)
            )
        else:
            options["tls"] = BrokerTls(home.ca_cert)
    if user == str(participant) or (scheme == "amqps" and user is None):
        options["participant"] = str(participant)
    return options
