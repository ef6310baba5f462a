"""Envelopes for tests: well-formed ones signed by govbus, and hand-made signatures govbus never makes.

``sign_with_template`` signs any tree with a python-xmlsec template of your choosing (SHA-1, RSA-SHA1,
HMAC, other references or transforms), so a test can show that the signature is cryptographically valid
(``bare_verify``) and that govbus still refuses it for the rule under test.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime, timedelta

import lxml.etree as etree
import xmlsec

from bus.envelope import Header, MessageKind, sign_envelope
from bus.envelope.codec import build_envelope
from bus.faults import Fault, FaultCode
from bus.ids import ServiceId
from bus.pki import SigningIdentity

Transform = type(xmlsec.Transform.SHA256)

SERVICE = ServiceId.parse("MA/GOV/CNSS/attestations/cnss.attestation/v1")
PAYLOAD_NS = "urn:test:cnss:attestation:1"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
DS = "{" + DS_NS + "}"
ENV = "{urn:govbus:envelope:1}"


def payload(ice: str = "001525987000088", name: str = "Atlas Travaux SARL") -> etree._Element:
    """A small teleservice payload in its own namespace."""
    root = etree.Element(f"{{{PAYLOAD_NS}}}AttestationRequest", nsmap={"a": PAYLOAD_NS})
    etree.SubElement(root, f"{{{PAYLOAD_NS}}}ice").text = ice
    etree.SubElement(root, f"{{{PAYLOAD_NS}}}name").text = name
    return root


def header(
    identity: SigningIdentity,
    *,
    kind: MessageKind = MessageKind.REQUEST,
    ttl: timedelta = timedelta(seconds=60),
    now: datetime | None = None,
    **fields: object,
) -> Header:
    """A header whose client is ``identity``'s participant, for the test service."""
    fields.setdefault("purpose", "public-procurement")
    return Header.new(kind, identity.participant, SERVICE, ttl=ttl, now=now, **fields)  # type: ignore[arg-type]


def signed(
    identity: SigningIdentity, *, head: Header | None = None, body: etree._Element | None = None
) -> bytes:
    """An envelope signed by govbus."""
    return sign_envelope(head or header(identity), body if body is not None else payload(), identity)


def unsigned_tree(identity: SigningIdentity, *, head: Header | None = None) -> etree._Element:
    """The unsigned envelope tree (Header, Body) as the signer builds it."""
    return build_envelope(head or header(identity), payload())


def to_bytes(root: etree._Element) -> bytes:
    """Serialise a tree the way the signer does."""
    return etree.tostring(root, encoding="UTF-8")


def parse(data: bytes) -> etree._Element:
    """Parse trusted test bytes (keeping comments and PIs) for manipulation."""
    return etree.fromstring(data, etree.XMLParser(remove_comments=False))


def sign_with_template(
    root: etree._Element,
    key: xmlsec.Key,
    *,
    certificate_der: bytes | None,
    c14n: Transform = xmlsec.Transform.EXCL_C14N,
    method: Transform | None = None,
    digest: Transform = xmlsec.Transform.SHA256,
    uris: Sequence[str] = ("",),
    transforms: Sequence[Transform] = (xmlsec.Transform.ENVELOPED, xmlsec.Transform.EXCL_C14N),
    parent: etree._Element | None = None,
    id_attributes: Sequence[str] = (),
) -> etree._Element:
    """Append a Signature built from an xmlsec template to ``parent`` (default: ``root``), sign it, return it.

    The certificate, when given, is written into KeyInfo/X509Data after signing, as govbus does.
    """
    if method is None:
        method = xmlsec.Transform.ECDSA_SHA256
    signature = xmlsec.template.create(root, c14n, method, ns="ds")
    (parent if parent is not None else root).append(signature)
    for uri in uris:
        reference = xmlsec.template.add_reference(signature, digest, uri=uri)
        for transform in transforms:
            xmlsec.template.add_transform(reference, transform)
    if id_attributes:
        xmlsec.tree.add_ids(root, list(id_attributes))
    context = xmlsec.SignatureContext()
    context.key = key
    context.sign(signature)
    if certificate_der is not None:
        add_certificate(signature, certificate_der)
    return signature


def add_certificate(signature: etree._Element, certificate_der: bytes) -> None:
    """Append KeyInfo/X509Data/X509Certificate carrying ``certificate_der`` to a Signature."""
    key_info = etree.SubElement(signature, DS + "KeyInfo")
    data = etree.SubElement(key_info, DS + "X509Data")
    etree.SubElement(data, DS + "X509Certificate").text = base64.b64encode(certificate_der).decode()


def private_key(identity: SigningIdentity) -> xmlsec.Key:
    """A python-xmlsec key for ``identity``'s private key, without its certificate."""
    return xmlsec.Key.from_memory(identity.key_pem, xmlsec.KeyFormat.PEM)


def bare_verify(data: bytes, certificate_der: bytes, *, id_attributes: Sequence[str] = ()) -> bool:
    """Whether python-xmlsec with a default context accepts the (first) Signature of ``data``.

    Tests use it to show a malicious variant is cryptographically valid, so only govbus's own rules
    can be what refuses it.
    """
    root = etree.fromstring(data)
    if id_attributes:
        xmlsec.tree.add_ids(root, list(id_attributes))
    signature = next(root.iter(DS + "Signature"))
    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_memory(certificate_der, xmlsec.KeyFormat.CERT_DER)
    try:
        context.verify(signature)
    except xmlsec.Error:
        return False
    return True


def fault_of(verifier: object, data: bytes, **options: object) -> FaultCode:
    """The fault code ``verifier.verify(data)`` raises; fails the test when it accepts or crashes."""
    try:
        verifier.verify(data, **options)  # type: ignore[attr-defined]
    except Fault as fault:
        return fault.code
    raise AssertionError("the verifier accepted a message it must refuse")
