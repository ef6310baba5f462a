"""The office configuration: saved and read back as JSON, refused when unusable."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from teleservices.mail_office.config import CONFIG_FILE, DEFAULT_MAIL_TYPES, MailType, OfficeConfig
from teleservices.mail_office.deadlines import DayCount
from teleservices.mail_office.errors import ConfigurationError
from teleservices.mail_office.office import MailOffice

from .conftest import mef_config


def test_the_configuration_round_trips_through_json(tmp_path: Path) -> None:
    config = mef_config(alert_days=5, weekend=frozenset({4, 5}))
    path = config.save(tmp_path)
    assert path == tmp_path / CONFIG_FILE
    assert OfficeConfig.load(tmp_path) == config
    data = json.loads(path.read_text("utf-8"))
    assert data["mailTypes"]["request"] == {"days": 20, "count": "business", "service": "rh"}
    assert data["holidays"] == ["2026-03-20", "2026-03-21"]
    assert data["publicHolidays"] == "MA" and data["recurringHolidays"] == []


def test_defaults_for_a_new_office() -> None:
    config = OfficeConfig(participant="MA/GOV/MEF/bo", name="MEF", code="MEF")
    assert config.number_format == "{office}/{year}/{register}/{counter}"
    assert config.timezone == "Africa/Casablanca"
    assert dict(config.mail_types) == dict(DEFAULT_MAIL_TYPES)
    assert config.public_holidays == "MA" and config.recurring_holidays == frozenset()
    assert config.weekend == frozenset({5, 6})
    assert config.service_for("request") == "bureau-ordre"


def test_a_minimal_file_is_enough(tmp_path: Path) -> None:
    (tmp_path / CONFIG_FILE).write_text('{"participant": "MA/GOV/MEF/bo", "name": "MEF", "code": "MEF"}')
    assert OfficeConfig.load(tmp_path).code == "MEF"


def test_a_directory_without_configuration_is_not_an_office(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=re.escape("is not a mail office: no mail-office.json")):
        MailOffice(tmp_path)


def test_an_office_is_created_once(tmp_path: Path) -> None:
    MailOffice.create(tmp_path / "mef", mef_config())
    with pytest.raises(ConfigurationError, match="is already a mail office"):
        MailOffice.create(tmp_path / "mef", mef_config())


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"participant": "MEF"}, "office identity"),
        ({"name": " "}, "office identity"),
        ({"code": "M E F"}, "office code"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"default_service": "courrier"}, "the default service 'courrier' is not in services"),
        ({"mail_types": {"bad type": MailType(5)}}, "mail type 'bad type'"),
        (
            {"mail_types": {"letter": MailType(5, service="nowhere")}},
            "mail type 'letter': unknown service 'nowhere'",
        ),
        ({"default_mail_type": "memo"}, "the default mail type 'memo' is not in mailTypes"),
        ({"weekend": frozenset(range(7))}, "not all seven"),
        ({"weekend": frozenset({7})}, "weekend days are 0"),
        ({"alert_days": -1}, "alertDays is 0-365"),
        ({"number_format": "{office}/{counter}"}, "must contain"),
        (
            {"code": "X" * 32, "number_format": "{office}{office}{office}/{year}/{register}/{counter:06d}"},
            "1-100",
        ),
    ],
)
def test_unusable_configurations_are_refused(overrides: dict[str, object], why: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(why)):
        mef_config(**overrides)


def test_a_deadline_is_at_least_a_day() -> None:
    with pytest.raises(ConfigurationError, match="1-3650 days"):
        MailType(0)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ({"name": "MEF", "code": "MEF"}, "missing configuration key 'participant'"),
        (
            {"participant": "MA/GOV/MEF/bo", "name": "MEF", "code": "MEF", "colour": "blue"},
            "unknown configuration key",
        ),
        (
            {
                "participant": "MA/GOV/MEF/bo",
                "name": "MEF",
                "code": "MEF",
                "mailTypes": {"x": {"days": 2, "count": "lunar"}},
            },
            "invalid configuration",
        ),
        (
            {"participant": "MA/GOV/MEF/bo", "name": "MEF", "code": "MEF", "holidays": ["someday"]},
            "invalid configuration",
        ),
        (
            {"participant": "MA/GOV/MEF/bo", "name": "MEF", "code": "MEF", "publicHolidays": "Atlantis"},
            "publicHolidays 'Atlantis': not a country",
        ),
    ],
)
def test_unusable_files_are_refused(tmp_path: Path, data: dict[str, object], why: str) -> None:
    (tmp_path / CONFIG_FILE).write_text(json.dumps(data))
    with pytest.raises(ConfigurationError, match=why):
        OfficeConfig.load(tmp_path)


def test_a_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    (tmp_path / CONFIG_FILE).write_text("participant = MA/GOV/MEF/bo")
    with pytest.raises(ConfigurationError, match="cannot read"):
        OfficeConfig.load(tmp_path)


def test_holidays_and_day_counts_are_read(tmp_path: Path) -> None:
    data = {
        "participant": "MA/GOV/MEF/bo",
        "name": "MEF",
        "code": "MEF",
        "mailTypes": {"request": {"days": 3, "count": "business"}},
        "defaultMailType": None,
        "holidays": ["2026-05-27"],
        "recurringHolidays": ["07-30"],
        "publicHolidays": None,
    }
    (tmp_path / CONFIG_FILE).write_text(json.dumps(data))
    config = OfficeConfig.load(tmp_path)
    assert config.mail_types["request"] == MailType(3, DayCount.BUSINESS)
    assert config.holidays == frozenset({date(2026, 5, 27)}) and config.recurring_holidays == frozenset(
        {(7, 30)}
    )
    assert config.public_holidays is None and config.calendar.is_working_day(date(2026, 5, 1))
    assert config.default_mail_type is None
