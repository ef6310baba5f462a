"""An office's configuration: who it is, how it numbers letters, its services, mail types and deadlines.

Stored as ``mail-office.json`` in the office directory::

    {
      "participant": "MA/GOV/MEF/bo",
      "name": "Ministère de l'Économie et des Finances",
      "code": "MEF",
      "numberFormat": "{office}/{year}/{register}/{counter}",
      "timezone": "Africa/Casablanca",
      "defaultService": "bureau-ordre",
      "services": ["bureau-ordre", "rh", "juridique"],          (empty: any service code is accepted)
      "mailTypes": {"request": {"days": 20, "count": "business", "service": "rh"},
                    "letter": {"days": 30, "count": "calendar"}},
      "defaultMailType": "letter",          (rule for types not in mailTypes; null refuses them)
      "weekend": [5, 6],                    (date.weekday(): Monday is 0)
      "publicHolidays": "MA",               (country whose public holidays count; null: none)
      "recurringHolidays": ["12-31", ...],  (the office's own days off, every year)
      "holidays": ["2026-03-20", ...],      (and once: an announced Eid, an exceptional closure)
      "alertDays": 3,
      "counterChannel": "MA/GOV/PORTAIL/guichet"  (follows counter letters of identified visitors)
    }
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pydantic

from teleservices.mail_office.deadlines import (
    MOROCCO,
    SATURDAY_SUNDAY,
    DayCount,
    WorkingCalendar,
    supported_country,
)
from teleservices.mail_office.errors import ConfigurationError, UnknownMailType, UnknownService
from teleservices.mail_office.models import Name, ParticipantId
from teleservices.mail_office.numbering import DEFAULT_FORMAT, NumberFormat

CONFIG_FILE = "mail-office.json"
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # CodeType in mail_office.xsd
_OFFICE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")


@dataclass(frozen=True, slots=True)
class MailType:
    """A kind of letter: its processing deadline and the service in charge on receipt."""

    days: int
    count: DayCount = DayCount.CALENDAR
    service: str | None = None  # None: the office's default service

    def __post_init__(self) -> None:
        if not isinstance(self.days, int) or not 1 <= self.days <= 3650:
            raise ConfigurationError(f"a processing deadline is 1-3650 days, not {self.days!r}")
        object.__setattr__(self, "count", DayCount(self.count))


DEFAULT_MAIL_TYPES: Mapping[str, MailType] = MappingProxyType(
    {
        "letter": MailType(30, DayCount.CALENDAR),
        "request": MailType(20, DayCount.BUSINESS),
        "complaint": MailType(60, DayCount.CALENDAR),
        "information": MailType(10, DayCount.BUSINESS),
        "reply": MailType(30, DayCount.CALENDAR),
    }
)
"""Starting values for a new office; each administration sets its own."""


def _check_code(what: str, value: str, pattern: re.Pattern[str] = _CODE) -> None:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ConfigurationError(f"{what} {value!r}: letters, digits, '.', '_' or '-', starting alphanumeric")


@dataclass(frozen=True, slots=True, kw_only=True)
class OfficeConfig:
    """Everything that makes one mail office different from another."""

    participant: str
    name: str
    code: str
    number_format: str = DEFAULT_FORMAT
    timezone: str = "Africa/Casablanca"
    default_service: str = "bureau-ordre"
    services: tuple[str, ...] = ()
    mail_types: Mapping[str, MailType] = field(default_factory=lambda: dict(DEFAULT_MAIL_TYPES))
    default_mail_type: str | None = "letter"
    weekend: frozenset[int] = SATURDAY_SUNDAY
    public_holidays: str | None = MOROCCO
    recurring_holidays: frozenset[tuple[int, int]] = frozenset()
    holidays: frozenset[date] = frozenset()
    alert_days: int = 3
    counter_channel: str | None = None
    """The depositing system (a citizen portal) that follows letters handed in at the counter by a visitor
    who gave their CIN or ICE: it receives their status steps and replies. None: the answer goes by post."""

    def __post_init__(self) -> None:
        try:
            pydantic.TypeAdapter(ParticipantId).validate_python(self.participant)
            if self.counter_channel is not None:
                pydantic.TypeAdapter(ParticipantId).validate_python(self.counter_channel)
            pydantic.TypeAdapter(Name).validate_python(self.name)
        except pydantic.ValidationError as error:
            raise ConfigurationError(f"office identity: {error.errors()[0]['msg']}") from None
        _check_code("office code", self.code, _OFFICE_CODE)
        NumberFormat(self.number_format).render(self.code, 9999, "D", 999_999)
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigurationError(f"unknown time zone {self.timezone!r}") from None
        object.__setattr__(self, "services", tuple(self.services))
        for service in (self.default_service, *self.services):
            _check_code("service", service)
        if self.services and self.default_service not in self.services:
            raise ConfigurationError(f"the default service {self.default_service!r} is not in services")
        object.__setattr__(self, "mail_types", MappingProxyType(dict(self.mail_types)))
        for code, mail_type in self.mail_types.items():
            _check_code("mail type", code)
            if mail_type.service is not None:
                _check_code("service", mail_type.service)
                if self.services and mail_type.service not in self.services:
                    raise ConfigurationError(f"mail type {code!r}: unknown service {mail_type.service!r}")
        if self.default_mail_type is not None and self.default_mail_type not in self.mail_types:
            raise ConfigurationError(f"the default mail type {self.default_mail_type!r} is not in mailTypes")
        if not set(self.weekend) <= set(range(7)) or len(set(self.weekend)) > 6:
            raise ConfigurationError("weekend days are 0 (Monday) to 6 (Sunday), and not all seven")
        object.__setattr__(self, "weekend", frozenset(self.weekend))
        if self.public_holidays is not None and not (
            isinstance(self.public_holidays, str) and supported_country(self.public_holidays)
        ):
            raise ConfigurationError(
                f"publicHolidays {self.public_holidays!r}: not a country whose public holidays are known "
                "(an ISO 3166 code such as MA, or null)"
            )
        object.__setattr__(self, "recurring_holidays", frozenset(self.recurring_holidays))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        if not isinstance(self.alert_days, int) or not 0 <= self.alert_days <= 365:
            raise ConfigurationError(f"alertDays is 0-365, not {self.alert_days!r}")

    @property
    def zone(self) -> ZoneInfo:
        """The office's time zone: it decides the local date (and year) of a registration."""
        return ZoneInfo(self.timezone)

    @property
    def numbers(self) -> NumberFormat:
        return NumberFormat(self.number_format)

    @property
    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar(self.weekend, self.recurring_holidays, self.holidays, self.public_holidays)

    def mail_type(self, code: str) -> MailType:
        """The rule for ``code``, the default type's rule for an unknown code, or ``UnknownMailType``."""
        rule = self.mail_types.get(code)
        if rule is None and self.default_mail_type is not None:
            rule = self.mail_types[self.default_mail_type]
        if rule is None:
            raise UnknownMailType(code, self.mail_types)
        return rule

    def service_for(self, mail_type: str) -> str:
        """The service in charge of a new letter of ``mail_type``."""
        return self.mail_type(mail_type).service or self.default_service

    def check_service(self, service: str) -> None:
        """``UnknownService`` unless the office has ``service`` (any code when no list is configured)."""
        if self.services and service not in self.services:
            raise UnknownService(service, self.services)

    def to_json(self) -> dict[str, Any]:
        return {
            "participant": self.participant,
            "name": self.name,
            "code": self.code,
            "numberFormat": self.number_format,
            "timezone": self.timezone,
            "defaultService": self.default_service,
            "services": list(self.services),
            "mailTypes": {
                code: {"days": t.days, "count": t.count.value} | ({"service": t.service} if t.service else {})
                for code, t in self.mail_types.items()
            },
            "defaultMailType": self.default_mail_type,
            "weekend": sorted(self.weekend),
            "publicHolidays": self.public_holidays,
            "recurringHolidays": [f"{m:02d}-{d:02d}" for m, d in sorted(self.recurring_holidays)],
            "holidays": [d.isoformat() for d in sorted(self.holidays)],
            "alertDays": self.alert_days,
        } | ({"counterChannel": self.counter_channel} if self.counter_channel else {})

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OfficeConfig:
        known = {
            "participant", "name", "code", "numberFormat", "timezone", "defaultService", "services",
            "mailTypes", "defaultMailType", "weekend", "publicHolidays", "recurringHolidays", "holidays",
            "alertDays", "counterChannel",
        }  # fmt: skip
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigurationError(f"unknown configuration key(s): {', '.join(unknown)}")
        try:
            options: dict[str, Any] = {
                "participant": data["participant"],
                "name": data["name"],
                "code": data["code"],
            }
            if "numberFormat" in data:
                options["number_format"] = data["numberFormat"]
            if "timezone" in data:
                options["timezone"] = data["timezone"]
            if "defaultService" in data:
                options["default_service"] = data["defaultService"]
            if "services" in data:
                options["services"] = tuple(data["services"])
            if "mailTypes" in data:
                options["mail_types"] = {
                    code: MailType(int(t["days"]), DayCount(t.get("count", "calendar")), t.get("service"))
                    for code, t in data["mailTypes"].items()
                }
            if "defaultMailType" in data:
                options["default_mail_type"] = data["defaultMailType"]
            if "weekend" in data:
                options["weekend"] = frozenset(int(d) for d in data["weekend"])
            if "publicHolidays" in data:
                options["public_holidays"] = data["publicHolidays"]
            if "recurringHolidays" in data:
                options["recurring_holidays"] = frozenset(
                    (int(md[:2]), int(md[3:])) for md in data["recurringHolidays"]
                )
            if "holidays" in data:
                options["holidays"] = frozenset(date.fromisoformat(d) for d in data["holidays"])
            if "alertDays" in data:
                options["alert_days"] = int(data["alertDays"])
            if data.get("counterChannel") is not None:
                options["counter_channel"] = str(data["counterChannel"])
        except KeyError as error:
            raise ConfigurationError(f"missing configuration key {error}") from None
        except (TypeError, ValueError, AttributeError) as error:
            raise ConfigurationError(f"invalid configuration: {error}") from None
        return cls(**options)

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write ``mail-office.json`` in ``directory`` (atomically)."""
        path = Path(directory) / CONFIG_FILE
        temporary = path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n", "utf-8")
        os.replace(temporary, path)
        return path

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> OfficeConfig:
        """Read ``mail-office.json`` from ``directory``."""
        path = Path(directory) / CONFIG_FILE
        try:
            data = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise ConfigurationError(
                f"{Path(directory)} is not a mail office: no {CONFIG_FILE} (create one with `mail init`)"
            ) from None
        except (OSError, ValueError) as error:
            raise ConfigurationError(f"cannot read {path}: {error}") from None
        if not isinstance(data, dict):
            raise ConfigurationError(f"{path}: a JSON object is expected")
        return cls.from_json(data)
