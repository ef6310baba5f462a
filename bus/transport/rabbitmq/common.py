"""Small pieces shared by the RabbitMQ collaborators; everything here runs on the transport's I/O thread."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from functools import partial
from typing import Any

import pika.exceptions
from pika.channel import Channel

from bus.transport.base import TopologyError

PERSISTENT = 2

Step = Callable[[Channel, Callable[[Any], None]], object]
"""One AMQP method on a channel; it calls its second argument with the reply frame."""


class ConnectionLost(Exception):
    """An operation's channel went away with the connection; the caller retries after reconnecting."""


def resolve(future: Future[Any], value: Any = None, error: BaseException | None = None) -> None:
    """Resolve ``future`` unless already resolved (a late confirm or reply is ignored)."""
    try:
        if error is None:
            future.set_result(value)
        else:
            future.set_exception(error)
    except InvalidStateError:
        pass


def channel_error(reason: BaseException) -> BaseException:
    """A broker's channel error as ``TopologyError``; anything else means the connection went away."""
    if isinstance(reason, pika.exceptions.ChannelClosedByBroker):
        return TopologyError(f"{reason.reply_code} {reason.reply_text}")
    return ConnectionLost(str(reason))


def quoted_after(text: str, marker: str) -> str | None:
    """``"NOT_FOUND - no exchange 'x' in vhost '/'"``, ``"exchange '"`` -> ``"x"``."""
    start = text.find(marker)
    if start < 0:
        return None
    start += len(marker)
    end = text.find("'", start)
    return text[start:end] if end >= 0 else None


def describe(error: BaseException) -> str:
    """An error as one short line."""
    text = str(error) or type(error).__name__
    return text if len(text) < 300 else text[:297] + "..."


def chain(channel: Channel, steps: list[Step], done: Callable[[Any], None]) -> None:
    """Run AMQP methods one after the other on ``channel``; ``done`` gets the last reply frame."""

    def run(index: int, frame: Any) -> None:
        if index == len(steps):
            done(frame)
        elif channel.is_open:
            steps[index](channel, partial(run, index + 1))

    run(0, None)
