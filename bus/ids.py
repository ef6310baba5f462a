"""Participant and service identifiers: ``INSTANCE/CLASS/MEMBER[/SUBSYSTEM]`` and ``PARTICIPANT/CODE/vN``.

Identifiers are text that round-trips exactly: ``str(ParticipantId.parse(s)) == s``. A participant has
three or four parts, a service five or six, so the two never collide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bus.faults import Fault, FaultCode

_INSTANCE = re.compile(r"[A-Z][A-Z0-9-]{1,15}")
_CLASS = re.compile(r"[A-Z][A-Z0-9]{1,15}")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_VERSION = re.compile(r"v([1-9][0-9]{0,5})")


def _invalid(text: str, why: str) -> Fault:
    return Fault(FaultCode.INVALID_IDENTIFIER, f"{text!r}: {why}")


def _check(text: str, part: str, value: str, pattern: re.Pattern[str], rule: str) -> None:
    if not pattern.fullmatch(value):
        raise _invalid(text, f"{part} {value!r} must be {rule}")


_CODE_RULE = "1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit"


@dataclass(frozen=True, slots=True, order=True)
class ParticipantId:
    """A bus participant: an administration (member) or one of its subsystems."""

    instance: str
    member_class: str
    member: str
    subsystem: str | None = None

    def __post_init__(self) -> None:
        text = self._format()
        _check(text, "instance", self.instance, _INSTANCE, "2-16 upper-case letters, digits or '-'")
        _check(text, "member class", self.member_class, _CLASS, "2-16 upper-case letters or digits")
        _check(text, "member code", self.member, _CODE, _CODE_RULE)
        if self.subsystem is not None:
            _check(text, "subsystem", self.subsystem, _CODE, _CODE_RULE)

    @classmethod
    def parse(cls, text: str) -> ParticipantId:
        """Parse ``INSTANCE/CLASS/MEMBER[/SUBSYSTEM]``; raise ``Client.InvalidIdentifier`` when malformed."""
        if not isinstance(text, str):
            raise _invalid(repr(text), "a participant id is text")
        parts = text.split("/")
        if len(parts) not in (3, 4):
            raise _invalid(text, f"a participant id has 3 or 4 parts separated by '/', not {len(parts)}")
        return cls(*parts)

    def _format(self) -> str:
        parts = [self.instance, self.member_class, self.member]
        if self.subsystem is not None:
            parts.append(self.subsystem)
        return "/".join(parts)

    def __str__(self) -> str:
        return self._format()


@dataclass(frozen=True, slots=True, order=True)
class ServiceId:
    """A teleservice: the providing participant, a service code and a major version."""

    provider: ParticipantId
    code: str
    version: int

    def __post_init__(self) -> None:
        _check(str(self.provider) + "/" + self.code, "service code", self.code, _CODE, _CODE_RULE)
        if _VERSION.fullmatch(self.code):
            raise _invalid(self.code, "a service code cannot look like a version")
        if type(self.version) is not int or not 1 <= self.version <= 999_999:
            raise _invalid(f"{self.provider}/{self.code}", f"version must be 1..999999, not {self.version!r}")

    @classmethod
    def parse(cls, text: str) -> ServiceId:
        """Parse ``PARTICIPANT/CODE/vN``; raise ``Client.InvalidIdentifier`` when malformed."""
        if not isinstance(text, str):
            raise _invalid(repr(text), "a service id is text")
        parts = text.split("/")
        if len(parts) not in (5, 6):
            raise _invalid(text, f"a service id is PARTICIPANT/CODE/vN: 5 or 6 parts, not {len(parts)}")
        version = _VERSION.fullmatch(parts[-1])
        if version is None:
            raise _invalid(text, f"the last part {parts[-1]!r} must be a version such as 'v1'")
        return cls(ParticipantId.parse("/".join(parts[:-2])), parts[-2], int(version.group(1)))

    @classmethod
    def of(cls, provider: ParticipantId | str, code: str, version: int = 1) -> ServiceId:
        """Build from parts, parsing the provider when given as text."""
        if isinstance(provider, str):
            provider = ParticipantId.parse(provider)
        return cls(provider, code, version)

    def __str__(self) -> str:
        return f"{self.provider}/{self.code}/v{self.version}"
