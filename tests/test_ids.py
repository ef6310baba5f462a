"""Participant and service identifiers: exact round trip and every malformed-identifier rule."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId, ServiceId

INSTANCE = st.from_regex(r"[A-Z][A-Z0-9-]{1,15}", fullmatch=True)
CLASS = st.from_regex(r"[A-Z][A-Z0-9]{1,15}", fullmatch=True)
CODE = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", fullmatch=True)
PARTICIPANT = st.builds(
    lambda i, c, m, s: "/".join([i, c, m] + ([s] if s else [])), INSTANCE, CLASS, CODE, st.none() | CODE
)


@pytest.mark.parametrize(
    "text",
    [
        "MA/GOV/CNSS",
        "MA/GOV/CNSS/attestations",
        "MA/COM/RABAT/etat-civil",
        "MA-TEST/GOV2/a.b_c-9/x",
        "MA/GOV/0/0",
    ],
)
def test_participant_round_trip(text):
    parsed = ParticipantId.parse(text)
    assert str(parsed) == text
    assert ParticipantId.parse(str(parsed)) == parsed


def test_participant_parts():
    parsed = ParticipantId.parse("MA/GOV/CNSS/attestations")
    assert (parsed.instance, parsed.member_class, parsed.member, parsed.subsystem) == (
        "MA",
        "GOV",
        "CNSS",
        "attestations",
    )
    assert ParticipantId.parse("MA/GOV/CNSS").subsystem is None


@pytest.mark.parametrize(
    "text",
    [
        "MA/GOV/CNSS/attestations/cnss.attestation/v1",
        "MA/GOV/CNSS/cert/v2",
        "MA/COM/RABAT/etat-civil/deces/v999999",
    ],
)
def test_service_round_trip(text):
    parsed = ServiceId.parse(text)
    assert str(parsed) == text
    assert ServiceId.parse(str(parsed)) == parsed


def test_service_parts_and_of():
    parsed = ServiceId.parse("MA/GOV/CNSS/attestations/cnss.attestation/v12")
    assert parsed.provider == ParticipantId.parse("MA/GOV/CNSS/attestations")
    assert (parsed.code, parsed.version) == ("cnss.attestation", 12)
    assert ServiceId.of("MA/GOV/CNSS/attestations", "cnss.attestation", 12) == parsed
    assert ServiceId.of(parsed.provider, "cnss.attestation") == ServiceId.parse(
        "MA/GOV/CNSS/attestations/cnss.attestation/v1"
    )


@given(PARTICIPANT)
def test_participant_round_trip_property(text):
    assert str(ParticipantId.parse(text)) == text


@given(
    PARTICIPANT, CODE.filter(lambda c: re.fullmatch(r"v[1-9][0-9]{0,5}", c) is None), st.integers(1, 999_999)
)
def test_service_round_trip_property(participant, code, version):
    text = f"{participant}/{code}/v{version}"
    assert str(ServiceId.parse(text)) == text


MALFORMED_PARTICIPANTS = {
    "empty": "",
    "two parts": "MA/GOV",
    "five parts": "MA/GOV/CNSS/a/b",
    "empty member": "MA/GOV/",
    "empty subsystem": "MA/GOV/CNSS/",
    "leading slash": "/MA/GOV/CNSS",
    "lower-case instance": "ma/GOV/CNSS",
    "one-letter instance": "M/GOV/CNSS",
    "17-letter instance": "ABCDEFGHIJKLMNOPQ/GOV/CNSS",
    "instance starting with digit": "1MA/GOV/CNSS",
    "instance starting with dash": "-MA/GOV/CNSS",
    "lower-case class": "MA/gov/CNSS",
    "dash in class": "MA/G-V/CNSS",
    "one-letter class": "MA/G/CNSS",
    "17-letter class": "MA/ABCDEFGHIJKLMNOPQ/CNSS",
    "member starting with dot": "MA/GOV/.CNSS",
    "member starting with dash": "MA/GOV/-CNSS",
    "space in member": "MA/GOV/CN SS",
    "plus in member": "MA/GOV/CN+SS",
    "non-ASCII member": "MA/GOV/CNSSé",
    "Arabic digit member": "MA/GOV/\u0661\u0662",
    "65-character member": "MA/GOV/" + "a" * 65,
    "subsystem starting with underscore": "MA/GOV/CNSS/_x",
    "65-character subsystem": "MA/GOV/CNSS/" + "a" * 65,
    "trailing newline": "MA/GOV/CNSS\n",
    "leading space": " MA/GOV/CNSS",
    "backslash": "MA\\GOV\\CNSS",
}


@pytest.mark.parametrize("text", MALFORMED_PARTICIPANTS.values(), ids=MALFORMED_PARTICIPANTS.keys())
def test_malformed_participant(text):
    with pytest.raises(Fault) as caught:
        ParticipantId.parse(text)
    assert caught.value.code is FaultCode.INVALID_IDENTIFIER


@pytest.mark.parametrize("value", [None, 12, b"MA/GOV/CNSS"])
def test_participant_must_be_text(value):
    with pytest.raises(Fault) as caught:
        ParticipantId.parse(value)
    assert caught.value.code is FaultCode.INVALID_IDENTIFIER


def test_participant_constructor_checks_parts():
    with pytest.raises(Fault) as caught:
        ParticipantId("MA", "GOV", "CN/SS")
    assert caught.value.code is FaultCode.INVALID_IDENTIFIER


MALFORMED_SERVICES = {
    "participant only": "MA/GOV/CNSS",
    "four parts": "MA/GOV/CNSS/v1",
    "seven parts": "MA/GOV/CNSS/a/b/c/v1",
    "no version": "MA/GOV/CNSS/attestations/cert",
    "version without v": "MA/GOV/CNSS/cert/1",
    "upper-case V": "MA/GOV/CNSS/cert/V1",
    "version zero": "MA/GOV/CNSS/cert/v0",
    "leading zero": "MA/GOV/CNSS/cert/v01",
    "seven-digit version": "MA/GOV/CNSS/cert/v1000000",
    "code looks like a version": "MA/GOV/CNSS/v2/v1",
    "empty code": "MA/GOV/CNSS//v1",
    "bad code character": "MA/GOV/CNSS/ce rt/v1",
    "bad provider": "ma/GOV/CNSS/cert/v1",
    "trailing slash": "MA/GOV/CNSS/cert/v1/",
}


@pytest.mark.parametrize("text", MALFORMED_SERVICES.values(), ids=MALFORMED_SERVICES.keys())
def test_malformed_service(text):
    with pytest.raises(Fault) as caught:
        ServiceId.parse(text)
    assert caught.value.code is FaultCode.INVALID_IDENTIFIER


@pytest.mark.parametrize("version", [0, -1, 1_000_000, "1", 1.0, True])
def test_service_version_range(version):
    with pytest.raises(Fault) as caught:
        ServiceId.of("MA/GOV/CNSS", "cert", version)
    assert caught.value.code is FaultCode.INVALID_IDENTIFIER


def test_service_must_be_text():
    with pytest.raises(Fault) as caught:
        ServiceId.parse(None)
    assert caught.value.code is FaultCode.INVALID_IDENTIFIER


def test_participant_and_service_never_collide():
    with pytest.raises(Fault):
        ParticipantId.parse("MA/GOV/CNSS/attestations/cnss.attestation/v1")
    with pytest.raises(Fault):
        ServiceId.parse("MA/GOV/CNSS/attestations")
