"""The payload models and signature_book.xsd cannot drift.

Every model instance serialises to XSD-valid XML and parses back equal; a fully filled instance of each
top-level model uses exactly the element and attribute paths the XSD declares for it (so neither side
has a field the other lacks); the XSD's global elements are exactly the models' root tags; hand-written
XSD-valid documents parse into the models; documents the XSD refuses, the models refuse too.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pydantic
import pytest
from lxml import etree

from schemas import load_schema, schema_bytes
from teleservices.signature_book import models as m

XS = "{http://www.w3.org/2001/XMLSchema}"
NS = m.NS
FOLDER = "0f8b7a52-3c1d-4e6f-9a0b-1c2d3e4f5a6b"
OTHER = "9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4"
DIGEST = "ab" * 32
AT = datetime(2026, 11, 21, 10, 15, 30, 123000, tzinfo=UTC)
LATER = datetime(2026, 11, 28, 18, 0, 0, tzinfo=UTC)
SG, DRH, AGENT = "MA/GOV/MEF/sg", "MA/GOV/MEF/drh", "MA/GOV/MEF/agent-rh"


def info(**extra: object) -> m.DocumentInfo:
    return m.DocumentInfo(name="arrete.pdf", mime_type="application/pdf", sha256=DIGEST, size=1234, **extra)  # type: ignore[arg-type]


FULL: list[m.BookPayload] = [
    m.SubmitFolder(
        title="Arrêté de nomination",
        business_type="hr",
        notify_service="MA/GOV/MEF/agent-rh/signature-book.events/v1",
        metadata=[m.MetadataEntry(key="matricule", value="12345")],
        documents=[
            m.DocumentUpload(
                name="arrete.pdf", mime_type="application/pdf", description="Arrêté", content=b"%PDF"
            )
        ],
        circuit=[m.CircuitStep(kind="visa", quorum="any", label="Visa RH", signatories=[DRH, SG])],
    ),
    m.ShowFolder(folder_id=FOLDER),
    m.ListFolders(awaiting=SG, status="in-progress"),
    m.GetDocument(folder_id=FOLDER, name="arrete.pdf"),
    m.GetSigningRequest(folder_id=FOLDER, on_behalf_of=SG),
    m.ApproveFolder(folder_id=FOLDER, on_behalf_of=DRH, comment="vu"),
    m.SignFolder(folder_id=FOLDER, signature=b"<ds:Signature/>"),
    m.RejectFolder(folder_id=FOLDER, on_behalf_of=SG, reason="Pièce manquante"),
    m.UndoAction(folder_id=FOLDER),
    m.DelegateSignature(substitute="MA/GOV/MEF/sg-adjoint", valid_from=AT, valid_until=LATER, reason="congé"),
    m.GetBundle(folder_id=FOLDER),
    m.FolderView(
        folder_id=FOLDER,
        title="Arrêté",
        business_type="hr",
        submitter=AGENT,
        status="in-progress",
        current_step=1,
        submitted_at=AT,
        updated_at=LATER,
        metadata=[m.MetadataEntry(key="matricule", value="12345")],
        documents=[info(description="Arrêté")],
        steps=[
            m.StepView(
                number=1,
                kind="signature",
                quorum="all",
                state="active",
                label="Signature",
                signatories=[SG],
                actions=[
                    m.ActionView(seq=2, kind="signed", actor="MA/GOV/MEF/sg-adjoint", on_behalf_of=SG, at=AT)
                ],
            )
        ],
        history=[
            m.HistoryItem(
                seq=3,
                kind="undone",
                actor=SG,
                at=AT,
                step=1,
                on_behalf_of=DRH,
                undoes=2,
                hash=DIGEST,
                reason="motif",
                comment="note",
            )
        ],
    ),
    m.FolderList(
        folders=[
            m.FolderSummary(
                folder_id=FOLDER,
                business_type="hr",
                submitter=AGENT,
                status="in-progress",
                current_step=2,
                updated_at=AT,
                title="Arrêté",
            )
        ]
    ),
    m.DocumentContent(
        folder_id=FOLDER, name="arrete.pdf", mime_type="application/pdf", sha256=DIGEST, content=b"%PDF"
    ),
    m.SigningRequest(
        book="MA/GOV/MEF/parapheur",
        folder_id=FOLDER,
        step=2,
        signatory="MA/GOV/MEF/sg-adjoint",
        on_behalf_of=SG,
        documents=[info(description="Arrêté")],
    ),
    m.ActionResult(folder_id=FOLDER, seq=4, action="approved", status="in-progress", current_step=2),
    m.DelegationView(
        delegation_id=OTHER,
        principal=SG,
        substitute="MA/GOV/MEF/sg-adjoint",
        valid_from=AT,
        valid_until=LATER,
        reason="congé",
        created_at=AT,
    ),
    m.FolderBundle(folder_id=FOLDER, content=b"PK\x03\x04"),
    m.ListDelegations(),
    m.EndDelegation(delegation_id=OTHER),
    m.DelegationList(
        delegations=[
            m.DelegationView(
                delegation_id=OTHER,
                principal=SG,
                substitute="MA/GOV/MEF/sg-adjoint",
                valid_from=AT,
                valid_until=LATER,
                reason="congé",
                created_at=AT,
            )
        ]
    ),
    m.FolderEvent(
        event_id=OTHER,
        kind="rejected",
        folder_id=FOLDER,
        seq=5,
        status="rejected",
        current_step=2,
        step=2,
        actor="MA/GOV/MEF/sg-adjoint",
        on_behalf_of=SG,
        reason="Pièce manquante",
        at=AT,
    ),
    m.DelegationEvent(
        event_id=OTHER,
        delegation_id=FOLDER,
        principal=SG,
        substitute="MA/GOV/MEF/sg-adjoint",
        valid_from=AT,
        valid_until=LATER,
        at=AT,
    ),
    m.EventAck(event_id=OTHER),
    m.SigningContext(book="MA/GOV/MEF/parapheur", folder_id=FOLDER, step=2, signatory=SG, on_behalf_of=DRH),
]

MINIMAL: list[m.BookPayload] = [
    m.SubmitFolder(
        title="t",
        business_type="hr",
        documents=[m.DocumentUpload(name="a", mime_type="text/plain", content=b"x")],
    ),
    m.ListFolders(),
    m.GetSigningRequest(folder_id=FOLDER),
    m.ApproveFolder(folder_id=FOLDER),
    m.DelegateSignature(substitute=SG, valid_from=AT, valid_until=LATER),
    m.FolderList(),
    m.ActionResult(folder_id=FOLDER, seq=1, action="submitted", status="completed"),
    m.FolderEvent(
        event_id=OTHER, kind="completed", folder_id=FOLDER, seq=9, status="completed", actor=SG, at=AT
    ),
    m.SigningContext(book="MA/GOV/MEF/parapheur", folder_id=FOLDER, step=1, signatory=SG),
    m.SigningRequest(book="MA/GOV/MEF/parapheur", folder_id=FOLDER, step=1, signatory=SG, documents=[info()]),
]

XSD_VALID_EXAMPLES: dict[type[m.BookPayload], str] = {
    m.RejectFolder: f"<RejectFolder xmlns='{NS}'><folderId>{FOLDER}</folderId><reason>Incomplet</reason></RejectFolder>",
    m.SubmitFolder: (
        f"<s:SubmitFolder xmlns:s='{NS}'><s:title>Bon de commande</s:title><s:businessType>purchasing</s:businessType>"
        "<s:document name='bc.pdf' mimeType='application/pdf'><s:content>JVBERg==</s:content></s:document>"
        f"<s:circuit><s:step kind='signature'><s:signatory>{SG}</s:signatory></s:step></s:circuit></s:SubmitFolder>"
    ),
    m.DelegateSignature: (
        f"<DelegateSignature xmlns='{NS}'><substitute>{SG}</substitute>"
        "<validFrom>2026-11-21T00:00:00.000Z</validFrom><validUntil>2026-11-30T00:00:00.000Z</validUntil>"
        "</DelegateSignature>"
    ),
}

XSD_INVALID_EXAMPLES: dict[type[m.BookPayload], str] = {
    m.RejectFolder: f"<RejectFolder xmlns='{NS}'><folderId>{FOLDER}</folderId></RejectFolder>",
    m.ShowFolder: f"<ShowFolder xmlns='{NS}'><folderId>not-a-uuid</folderId></ShowFolder>",
    m.SubmitFolder: (
        f"<SubmitFolder xmlns='{NS}'><title>t</title><businessType>HR!</businessType>"
        "<document name='a' mimeType='text/plain'><content>eA==</content></document></SubmitFolder>"
    ),
    m.ListFolders: f"<ListFolders xmlns='{NS}'><status>lost</status></ListFolders>",
    m.ApproveFolder: f"<ApproveFolder xmlns='{NS}'><folderId>{FOLDER}</folderId><onBehalfOf>nobody</onBehalfOf></ApproveFolder>",
}


@pytest.fixture(scope="module")
def xsd() -> etree.XMLSchema:
    return load_schema(m.SCHEMA)


def tag(model: type[m.BookPayload]) -> str:
    return model.__xml_tag__  # type: ignore[attr-defined]


def test_every_global_element_has_a_model_and_back() -> None:
    root = etree.fromstring(schema_bytes(m.SCHEMA))
    declared = {e.get("name") for e in root.findall(f"{XS}element")}
    assert declared == {tag(model) for model in m.TOP_LEVEL}
    assert {type(p) for p in FULL} == set(m.TOP_LEVEL)


@pytest.mark.parametrize("payload", FULL + MINIMAL, ids=lambda p: type(p).__name__)
def test_instances_are_valid_and_round_trip(payload: m.BookPayload, xsd: etree.XMLSchema) -> None:
    tree = payload.to_xml_tree()
    assert xsd.validate(tree), xsd.error_log
    assert type(payload).from_xml(etree.tostring(tree)) == payload


def _xsd_paths(
    schema: etree._Element, element: etree._Element, prefix: tuple[str, ...]
) -> set[tuple[str, ...]]:
    """Every element and attribute path the XSD allows under ``element`` (local names, attributes as @name)."""
    path = (*prefix, element.get("name"))
    paths = {path}
    complex_type = element.find(f"{XS}complexType")
    if complex_type is None:
        named = (element.get("type") or "").split(":")[-1]
        complex_type = next((t for t in schema.findall(f"{XS}complexType") if t.get("name") == named), None)
    if complex_type is None:
        return paths
    for node in complex_type.iter(f"{XS}attribute", f"{XS}element"):
        if _owner(node) is not complex_type:
            continue
        if node.tag == f"{XS}attribute":
            paths.add((*path, "@" + node.get("name")))
        else:
            paths |= _xsd_paths(schema, node, path)
    return paths


def _owner(element: etree._Element) -> etree._Element | None:
    node = element.getparent()
    while node is not None and node.tag != f"{XS}complexType":
        node = node.getparent()
    return node


def _instance_paths(element: etree._Element, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    path = (*prefix, etree.QName(element).localname)
    paths = {path} | {(*path, "@" + name) for name in element.attrib}
    for child in element:
        paths |= _instance_paths(child, path)
    return paths


@pytest.mark.parametrize("payload", FULL, ids=lambda p: type(p).__name__)
def test_a_full_instance_uses_exactly_what_the_xsd_declares(payload: m.BookPayload) -> None:
    schema = etree.fromstring(schema_bytes(m.SCHEMA))
    declaration = next(e for e in schema.findall(f"{XS}element") if e.get("name") == tag(type(payload)))
    assert _instance_paths(payload.to_xml_tree()) == _xsd_paths(schema, declaration, ())


@pytest.mark.parametrize("model", list(XSD_VALID_EXAMPLES), ids=lambda t: t.__name__)
def test_xsd_valid_documents_parse_into_the_models(model: type[m.BookPayload], xsd: etree.XMLSchema) -> None:
    document = etree.fromstring(XSD_VALID_EXAMPLES[model])
    assert xsd.validate(document), xsd.error_log
    parsed = model.from_xml_tree(document)
    assert xsd.validate(parsed.to_xml_tree())


@pytest.mark.parametrize("model", list(XSD_INVALID_EXAMPLES), ids=lambda t: t.__name__)
def test_documents_the_xsd_refuses_the_models_refuse(
    model: type[m.BookPayload], xsd: etree.XMLSchema
) -> None:
    document = etree.fromstring(XSD_INVALID_EXAMPLES[model])
    assert not xsd.validate(document)
    with pytest.raises((pydantic.ValidationError, ValueError)):
        model.from_xml_tree(document)
