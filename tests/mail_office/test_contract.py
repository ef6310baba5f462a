"""The payload models and mail_office.xsd cannot drift apart.

- every global element of the XSD has a model and every model an element;
- every model instance (all fields filled, and only the required ones) serialises to XSD-valid XML and
  parses back to an equal instance;
- hand-written XSD-valid samples parse into the models, and what the models write back is valid;
- documents the XSD refuses are refused by the models too;
- for each lexical type, a random string is accepted by the model exactly when the XSD accepts it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import lxml.etree as etree
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import load_schema, schema_bytes
from teleservices.mail_office import models
from teleservices.mail_office.models import NAMESPACE, PAYLOADS, SCHEMA, MailPayload

from .payload_examples import full, minimal

XS = "http://www.w3.org/2001/XMLSchema"
SAMPLES = Path(__file__).parent / "samples"
BY_TAG = {model.__xml_tag__: model for model in PAYLOADS}  # type: ignore[attr-defined]


def xsd() -> etree.XMLSchema:
    return load_schema(SCHEMA)


def assert_valid(element: etree._Element) -> None:
    schema = xsd()
    assert schema.validate(element), schema.error_log.last_error


def global_elements() -> set[str]:
    root = etree.fromstring(schema_bytes(SCHEMA))
    return {node.get("name") for node in root.findall(f"{{{XS}}}element")}


def test_every_xsd_element_has_a_model_and_every_model_an_element() -> None:
    assert global_elements() == set(BY_TAG)
    for model in PAYLOADS:
        assert model.__xml_nsmap__[model.__xml_ns__] == NAMESPACE  # type: ignore[attr-defined]


def test_examples_cover_every_model_and_every_field() -> None:
    assert {type(p) for p in full()} == set(PAYLOADS)
    assert {type(p) for p in minimal()} == set(PAYLOADS)

    def filled(payload: MailPayload, path: str) -> None:
        for name in type(payload).model_fields:
            value = getattr(payload, name)
            where = f"{path}.{name}"
            assert value is not None and value != [], f"{where} is empty in the full example"
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, MailPayload):
                    filled(item, where)

    for payload in full():
        filled(payload, type(payload).__name__)


@pytest.mark.parametrize(
    "payload",
    [*full(), *minimal()],
    ids=[f"{type(p).__name__}-full" for p in full()] + [f"{type(p).__name__}-min" for p in minimal()],
)
def test_model_serialises_to_xsd_valid_xml_and_back(payload: MailPayload) -> None:
    tree = payload.to_xml_tree()
    assert_valid(tree)
    data = payload.to_xml()
    reparsed = type(payload).from_xml(data)
    assert reparsed == payload
    assert reparsed.to_xml() == data


@pytest.mark.parametrize("sample", sorted(SAMPLES.glob("*.xml")), ids=lambda p: p.stem)
def test_xsd_valid_samples_parse_into_models(sample: Path) -> None:
    tree = etree.parse(str(sample)).getroot()
    assert_valid(tree)
    qname = etree.QName(tree)
    assert qname.namespace == NAMESPACE
    payload = BY_TAG[qname.localname].from_xml_tree(tree)
    assert_valid(payload.to_xml_tree())
    assert type(payload).from_xml(payload.to_xml()) == payload


def test_samples_cover_the_main_exchanges() -> None:
    tags = {etree.QName(etree.parse(str(p)).getroot()).localname for p in SAMPLES.glob("*.xml")}
    assert {"Deposit", "Acknowledgement", "StatusChange", "RegisterQuery", "Register", "MailRecord"} <= tags


def test_sample_values_are_read_as_written() -> None:
    deposit = models.Deposit.from_xml((SAMPLES / "deposit-company.xml").read_bytes())
    assert deposit.sender.kind is models.PartyKind.COMPANY
    assert deposit.body is not None and "réclamation & ses annexes" in deposit.body
    assert deposit.attachments[0].content.startswith(b"%PDF-1.7")
    for attachment in deposit.attachments:
        assert models.Attachment.of(attachment.name, attachment.media_type, attachment.content) == attachment
    query = models.RegisterQuery.from_xml((SAMPLES / "register-query.xml").read_bytes())
    assert query.late_only is True and query.limit == 50 and query.offset == 0
    change = models.StatusChange.from_xml((SAMPLES / "status-change.xml").read_bytes())
    assert change.sequence == 4


VALID_ACK = (SAMPLES / "acknowledgement.xml").read_text(encoding="utf-8")
VALID_DEPOSIT = (SAMPLES / "deposit-administration.xml").read_text(encoding="utf-8")

INVALID = {
    "blank subject": VALID_DEPOSIT.replace("Réponse à votre demande d'avis", "  \t "),
    "two-line subject": VALID_DEPOSIT.replace("Réponse à votre", "Réponse\nà votre"),
    "timestamp without milliseconds": VALID_ACK.replace("09:30:15.123Z", "09:30:15Z"),
    "timestamp with an offset": VALID_ACK.replace("09:30:15.123Z", "10:30:15.123+01:00"),
    "date with a zone": VALID_ACK.replace("2026-04-01", "2026-04-01Z"),
    "upper-case digest": VALID_ACK.replace("9f86d081", "9F86D081"),
    "short digest": VALID_ACK.replace("9f86d081", "9f86d08"),
    "registration with a space": VALID_ACK.replace("MEF/2026/A/42", "MEF 2026/A/42"),
    "office not a participant id": VALID_ACK.replace("MA/GOV/MEF/bo", "mef"),
    "unknown party kind": VALID_DEPOSIT.replace(">administration<", ">association<", 1),
    "fields out of order": VALID_DEPOSIT.replace("<mo:mailType>reply</mo:mailType>", "").replace(
        "<mo:inReplyTo>", "<mo:mailType>reply</mo:mailType><mo:inReplyTo>", 1
    ),
    "missing mail type": VALID_DEPOSIT.replace("<mo:mailType>reply</mo:mailType>", ""),
    "unknown element": VALID_ACK.replace("</Acknowledgement>", "<extra>1</extra></Acknowledgement>"),
    "unknown status": (SAMPLES / "status-change.xml")
    .read_text(encoding="utf-8")
    .replace(">assigned<", ">pending<"),
    "sequence zero": (SAMPLES / "status-change.xml").read_text(encoding="utf-8").replace("+004", "0"),
    "attachment name with a path": (SAMPLES / "reply.xml")
    .read_text(encoding="utf-8")
    .replace("décision.pdf", "../décision.pdf"),
    "empty attachment": (SAMPLES / "reply.xml").read_text(encoding="utf-8").replace("Zm9v", ""),
    "page too large": (SAMPLES / "register-query.xml").read_text(encoding="utf-8").replace(">50<", ">1001<"),
}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_documents_the_xsd_refuses_are_refused_by_the_models(name: str) -> None:
    data = INVALID[name].encode("utf-8")
    tree = etree.fromstring(data)
    assert not xsd().validate(tree), f"the XSD accepts the '{name}' document"
    model = BY_TAG[etree.QName(tree).localname]
    with pytest.raises((pydantic.ValidationError, ValueError)):
        model.from_xml(data)


def test_too_many_attachments_are_refused_by_both() -> None:
    deposit = next(p for p in full() if isinstance(p, models.Deposit))
    tree = deposit.to_xml_tree()
    attachment = tree.find(f"{{{NAMESPACE}}}attachment")
    assert attachment is not None
    for _ in range(models.MAX_ATTACHMENTS - 1):
        tree.append(etree.fromstring(etree.tostring(attachment)))
    assert not xsd().validate(tree)
    with pytest.raises(pydantic.ValidationError):
        models.Deposit.from_xml_tree(tree)


# Lexical agreement: model type <-> XSD simple type, checked on random strings.

LEXICAL_TYPES: dict[str, Any] = {
    "SubjectType": models.Subject,
    "NameType": models.Name,
    "ActorType": models.Actor,
    "CommentType": models.Comment,
    "CodeType": models.Code,
    "RegistrationNumberType": models.RegistrationNumber,
    "IdentifierType": models.Identifier,
    "ParticipantIdType": models.ParticipantId,
    "Sha256HexType": models.Sha256Hex,
    "MediaTypeType": models.MediaType,
    "FileNameType": models.FileName,
}
LEXICAL_NS = "urn:govbus:test:lexical"


def lexical_schema() -> etree.XMLSchema:
    elements = "".join(f'<xs:element name="{t}" type="m:{t}"/>' for t in LEXICAL_TYPES)
    text = (
        f'<xs:schema xmlns:xs="{XS}" xmlns:m="{NAMESPACE}" targetNamespace="{LEXICAL_NS}" '
        f'elementFormDefault="qualified"><xs:import namespace="{NAMESPACE}" schemaLocation="mail_office.xsd"/>'
        f"{elements}</xs:schema>"
    )
    base = str(
        resources.files("teleservices.mail_office").joinpath("lexical-test.xsd")
    )  # a sibling of the contract
    return etree.XMLSchema(etree.fromstring(text.encode(), base_url=base))


LEXICAL_SCHEMA = lexical_schema()
ADAPTERS = {name: pydantic.TypeAdapter(kind) for name, kind in LEXICAL_TYPES.items()}


def xsd_accepts(type_name: str, value: str) -> bool:
    element = etree.Element(f"{{{LEXICAL_NS}}}{type_name}")
    try:
        element.text = value
        document = etree.fromstring(etree.tostring(element))  # what can actually travel
    except (ValueError, etree.XMLSyntaxError):
        return False
    return document.text == value and LEXICAL_SCHEMA.validate(document)


def model_accepts(type_name: str, value: str) -> bool:
    try:
        ADAPTERS[type_name].validate_python(value)
    except pydantic.ValidationError:
        return False
    return True


# Around every length limit of the contract.
LENGTHS = sorted({n + d for n in (1, 64, 100, 200, 255, 300, 500, 4000) for d in (-1, 0, 1)})
TRICKY = " \t\n\r/\\.-_+~!aZ09é\u0647\u00a0\u2003\x00\x01\x7f\ufffe\U0001f600"
strings = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=TRICKY, max_size=12),
    st.from_regex(r"[A-Z]{2}/[A-Z]{2,4}/[a-z0-9.]{1,8}(/[a-z]{1,5})?", fullmatch=True),
    st.from_regex(r"[a-z]{1,8}/[a-z0-9.+-]{1,10}", fullmatch=True),
    st.from_regex(r"[0-9a-f]{63,65}", fullmatch=True),
    st.builds(lambda n, c: c * n, st.sampled_from(LENGTHS), st.sampled_from(["a", " ", "é", "\n", "0"])),
)


@pytest.mark.parametrize("type_name", sorted(LEXICAL_TYPES))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=strings)
def test_model_and_xsd_accept_the_same_strings(type_name: str, value: str) -> None:
    assert model_accepts(type_name, value) == xsd_accepts(type_name, value), repr(value)


@pytest.mark.parametrize("type_name", sorted(LEXICAL_TYPES))
def test_model_and_xsd_agree_at_every_length_limit(type_name: str) -> None:
    for length in LENGTHS:
        for value in ("a" * length, "é" * length, "0" * length, "a" + " " * max(length - 1, 0)):
            assert model_accepts(type_name, value) == xsd_accepts(type_name, value), (length, value[:3])
