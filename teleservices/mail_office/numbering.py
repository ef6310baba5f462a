"""Registration (chrono) numbers: a configurable format over a gap-free yearly counter per register.

The format is a Python format string over four fields: ``office`` (the office code), ``year`` (the
local year of registration), ``register`` (``A`` incoming, ``D`` outgoing) and ``counter`` (1, 2, ...
restarting every year in each register). The counter may be padded (``{counter:06d}``); the other
fields take no format spec. The default
``{office}/{year}/{register}/{counter}`` gives ``MEF/2026/A/42``.

The counter is taken inside the transaction that registers the letter (``store.Mails.next_counter``): a
failed registration rolls it back with everything else, so numbers have no gaps and no duplicates,
whatever the concurrency.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from teleservices.mail_office.errors import ConfigurationError

DEFAULT_FORMAT = "{office}/{year}/{register}/{counter}"
FIELDS = frozenset({"office", "year", "register", "counter"})
REQUIRED = frozenset({"year", "register", "counter"})
_NUMBER = re.compile(r"[!-~]{1,100}")  # RegistrationNumberType in mail_office.xsd
_COUNTER_SPEC = re.compile(r"(0[1-9][0-9]?)?d?")


@dataclass(frozen=True, slots=True)
class NumberFormat:
    """A checked registration number format."""

    pattern: str = DEFAULT_FORMAT

    def __post_init__(self) -> None:
        try:
            parsed = list(string.Formatter().parse(self.pattern))
        except ValueError as error:
            raise ConfigurationError(f"number format {self.pattern!r}: {error}") from None
        names = [name for _, name, _, _ in parsed if name is not None]
        unknown = sorted(set(names) - FIELDS)
        if unknown:
            raise ConfigurationError(
                f"number format {self.pattern!r}: unknown field(s) {', '.join(unknown)}; "
                f"use {', '.join(sorted(FIELDS))}"
            )
        missing = sorted(REQUIRED - set(names))
        if missing:
            raise ConfigurationError(
                f"number format {self.pattern!r} must contain {', '.join('{' + m + '}' for m in missing)} "
                "so that numbers stay unique across registers and years"
            )
        for _, name, spec, conversion in parsed:
            if name is None:
                continue
            if conversion:
                raise ConfigurationError(
                    f"number format {self.pattern!r}: conversions (!r, !s) are not allowed"
                )
            if spec and (name != "counter" or not _COUNTER_SPEC.fullmatch(spec)):
                raise ConfigurationError(
                    f"number format {self.pattern!r}: {{{name}:{spec}}} is not allowed; only the counter "
                    "takes a spec, a zero-padded width such as {counter:06d}"
                )
        self.render("OFFICE", 2026, "A", 1)

    def render(self, office: str, year: int, register: str, counter: int) -> str:
        """The registration number; ``ConfigurationError`` if it is not printable ASCII without spaces."""
        try:
            number = self.pattern.format(office=office, year=year, register=register, counter=counter)
        except (ValueError, TypeError, KeyError, IndexError) as error:
            raise ConfigurationError(f"number format {self.pattern!r}: {error}") from None
        if not _NUMBER.fullmatch(number):
            raise ConfigurationError(
                f"number format {self.pattern!r} gives {number!r}: registration numbers are 1-100 "
                "printable ASCII characters without spaces"
            )
        return number
