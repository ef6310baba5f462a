"""The pilots' models and their published XSDs agree: every model instance is XSD-valid, every XSD example
parses into the models, and what the XSD forbids the models cannot send."""

from __future__ import annotations

from datetime import date

import lxml.etree as etree
import pytest
from pydantic import ValidationError

from bus.faults import Fault, FaultCode
from sdk.contract import decode, encode
from teleservices.cnss_attestation import (
    ATTESTATION,
    Attestation,
    AttestationRequest,
    Certificate,
    CompanyIdentity,
    Standing,
)
from teleservices.death_notice import (
    DEATH_NOTICE,
    DEATH_NOTICE_CANCELLATION,
    Act,
    CancellationOutcome,
    CancellationReceipt,
    DeathNotice,
    DeathNoticeCancellation,
    DeathNoticeReceipt,
    Deceased,
    DeclaringAuthority,
    NoticeOutcome,
)

COMPANY = CompanyIdentity(name="Atlas Travaux SARL", ice="001525987000088", affiliation="2345671")
NOTICE = DeathNotice(
    deceased=Deceased(
        cin="AB118903", last_name="BENJELLOUN", first_name="Fatima Zahra", birth_date=date(1951, 6, 3)
    ),
    date_of_death=date(2026, 11, 19),
    place_of_death="Rabat",
    act=Act(number="42/2026", registry="Bureau d'état civil de Rabat-Hassan"),
    declared_by=DeclaringAuthority(kind="commune", name="Rabat"),
)
INSTANCES = [
    (ATTESTATION.schema, AttestationRequest(ice="001525987000088")),
    (ATTESTATION.schema, AttestationRequest(affiliation="2345671")),
    (
        ATTESTATION.schema,
        Attestation(
            outcome=Standing.GOOD,
            company=COMPANY,
            certificate=Certificate(
                number="ATT-2026-004812", issued=date(2026, 11, 21), valid_until=date(2027, 2, 19)
            ),
        ),
    ),
    (
        ATTESTATION.schema,
        Attestation(outcome=Standing.NOT_GOOD, company=COMPANY, reason="contributions unpaid"),
    ),
    (ATTESTATION.schema, Attestation(outcome=Standing.UNKNOWN)),
    (DEATH_NOTICE.schema, NOTICE),
    (
        DEATH_NOTICE.schema,
        NOTICE.model_copy(update={"deceased": Deceased(cin="A1", last_name="X", first_name="Y")}),
    ),
    *[(DEATH_NOTICE.schema, DeathNoticeReceipt(act="42/2026", outcome=outcome)) for outcome in NoticeOutcome],
    (
        DEATH_NOTICE.schema,
        DeathNoticeReceipt(
            act="42/2026",
            outcome=NoticeOutcome.SUSPENDED,
            pension_number="CMR-7481220",
            suspended_from=date(2026, 12, 1),
        ),
    ),
    (
        DEATH_NOTICE_CANCELLATION.schema,
        DeathNoticeCancellation(act=NOTICE.act, cin="AB118903", reason="declared in error"),
    ),
    *[
        (DEATH_NOTICE_CANCELLATION.schema, CancellationReceipt(act="42/2026", outcome=outcome))
        for outcome in CancellationOutcome
    ],
]


@pytest.mark.parametrize(
    ("schema", "instance"), INSTANCES, ids=lambda v: type(v).__name__ if not isinstance(v, str) else v
)
def test_every_model_instance_is_valid_against_its_xsd_and_round_trips(schema, instance):
    element = encode(instance, schema)
    assert decode(element, type(instance), schema) == instance


EXAMPLES = [
    (
        ATTESTATION.schema,
        Attestation,
        """<Attestation xmlns="urn:govbus:cnss:attestation:1"><outcome>good-standing</outcome>
        <company><name>Atlas Travaux SARL</name><ice>001525987000088</ice><affiliation>2345671</affiliation></company>
        <certificate><number>ATT-2026-004812</number><issued>2026-11-21</issued><validUntil>2027-02-19</validUntil></certificate>
        </Attestation>""",
    ),
    (
        DEATH_NOTICE.schema,
        DeathNotice,
        """<DeathNotice xmlns="urn:govbus:death-notice:1"><deceased><cin>A234517</cin><lastName>EL AMRANI</lastName>
        <firstName>Mohammed</firstName></deceased><dateOfDeath>2026-11-18</dateOfDeath><placeOfDeath>Rabat</placeOfDeath>
        <act><number>41/2026</number><registry>Bureau d'état civil de Rabat-Hassan</registry></act>
        <declaredBy kind="province">Skhirate-Témara</declaredBy></DeathNotice>""",
    ),
    (
        DEATH_NOTICE.schema,
        DeathNoticeReceipt,
        """<d:DeathNoticeReceipt xmlns:d="urn:govbus:death-notice:1"><d:act>41/2026</d:act>
        <d:outcome>already-recorded</d:outcome><d:pensionNumber>CNSS-147323298</d:pensionNumber>
        <d:suspendedFrom>2026-12-01</d:suspendedFrom></d:DeathNoticeReceipt>""",
    ),
]


@pytest.mark.parametrize(("schema", "model", "text"), EXAMPLES, ids=lambda v: getattr(v, "__name__", "x"))
def test_xsd_valid_documents_parse_into_the_models(schema, model, text):
    parsed = decode(etree.fromstring(text.encode()), model, schema)
    assert encode(parsed, schema) is not None


INVALID = [
    (
        ATTESTATION.schema,
        AttestationRequest,
        '<a:AttestationRequest xmlns:a="urn:govbus:cnss:attestation:1"/>',
    ),
    (
        ATTESTATION.schema,
        AttestationRequest,
        '<a:AttestationRequest xmlns:a="urn:govbus:cnss:attestation:1"><a:ice>001525987000088</a:ice>'
        "<a:affiliation>2345671</a:affiliation></a:AttestationRequest>",
    ),
    (
        ATTESTATION.schema,
        AttestationRequest,
        '<a:AttestationRequest xmlns:a="urn:govbus:cnss:attestation:1"><a:ice>15259870</a:ice></a:AttestationRequest>',
    ),
    (
        DEATH_NOTICE.schema,
        DeathNoticeReceipt,
        '<d:DeathNoticeReceipt xmlns:d="urn:govbus:death-notice:1"><d:act>41/2026</d:act>'
        "<d:outcome>deceased</d:outcome></d:DeathNoticeReceipt>",
    ),
]


@pytest.mark.parametrize(("schema", "model", "text"), INVALID)
def test_documents_the_xsd_refuses_are_refused(schema, model, text):
    with pytest.raises(Fault) as refused:
        decode(etree.fromstring(text.encode()), model, schema)
    assert refused.value.code is FaultCode.PAYLOAD_SCHEMA_VIOLATION


def test_the_models_refuse_what_the_xsd_would():
    with pytest.raises(ValidationError):
        AttestationRequest(ice="001525987000088", affiliation="2345671")
    with pytest.raises(ValidationError):
        Attestation(outcome=Standing.GOOD, company=COMPANY)  # no certificate
    with pytest.raises(ValidationError):
        Attestation(outcome=Standing.UNKNOWN, company=COMPANY)
    with pytest.raises(Fault):
        encode(
            NOTICE.model_copy(update={"deceased": Deceased(cin="ab12", last_name="X", first_name="Y")}),
            DEATH_NOTICE.schema,
        )
