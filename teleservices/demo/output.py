"""The demo's printed story: sections, indented lines, wire-trace lines, and checked expectations."""

from __future__ import annotations

from collections.abc import Iterable

import click

from teleservices.demo.trace import Event

WIDTH = 28


class Output:
    """Writes the story and counts the results that were not what the pilot expects."""

    def __init__(self) -> None:
        self.unexpected: list[str] = []
        self._explained: set[tuple[str, str]] = set()

    def section(self, title: str) -> None:
        click.echo()
        click.secho(f"== {title} ==", bold=True)

    def line(self, text: str = "", indent: int = 0) -> None:
        click.echo("  " * indent + text)

    def expect(self, ok: bool, what: str, indent: int = 2) -> None:
        """Print ``what`` with a check mark, or as unexpected (and remember it)."""
        if ok:
            self.line(f"✓ {what}", indent)
        else:
            self.unexpected.append(what)
            click.secho("  " * indent + f"✗ UNEXPECTED: {what}", fg="red")

    def events(self, events: Iterable[Event], indent: int = 3) -> None:
        """Trace lines; what a verification checks is said the first time for each kind of message."""
        for event in events:
            key = (event.direction, event.kind or "")
            self.line(describe(event, explain=key not in self._explained), indent)
            self._explained.add(key)


CHECKS = {
    "request": "signature, certificate, caller's grant",
    "notification": "signature, certificate, sender, subscription",
    "response": "signature, signer, requestHash",
    "receipt": "signature, signer, requestHash, subscription",
}


def describe(event: Event, *, explain: bool = True) -> str:
    """One trace event as a sentence."""
    who = f"{event.participant:<{WIDTH}}"
    fault = f": {event.fault_code}" if event.fault_code else ""
    if event.kind is None:
        return f"{who} rejected a message before reading it{fault}"
    if event.direction == "out":
        if event.kind in ("request", "notification"):
            return f"{who} signed {event.kind} {event.short_id} for {event.service}"
        if event.kind == "fault":
            return f"{who} signed fault {event.short_id} about {event.short_correlation}{fault}"
        return f"{who} signed {event.kind} {event.short_id} answering {event.short_correlation}"
    if event.outcome == "accepted":
        checks = f" ({CHECKS.get(event.kind, 'signature')})" if explain else ""
        return f"{who} verified {event.kind} {event.short_id} from {event.signer}{checks}"
    if event.outcome == "fault":
        return f"{who} verified fault {event.short_id} from {event.signer}{fault}"
    if event.outcome.startswith("duplicate"):
        return f"{who} already handled {event.kind} {event.short_id}: stored answer sent again"
    return f"{who} {event.outcome} {event.kind} {event.short_id} from {event.signer}{fault}"
