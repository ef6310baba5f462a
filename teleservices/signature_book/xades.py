"""Detached XAdES baseline signatures over files: B-B made with signxml, B-T added here.

What is signed (one ``ds:Signature``, the root of its own file, exclusive C14N, SHA-256, ECDSA-P256 or
RSA with SHA-256):

- one ``ds:Reference`` per detached object, its URI the object's path in the bundle
  (``documents/NAME``) and its digest over the object's raw bytes (no transforms);
- the ``xades:SignedProperties``: ``SigningTime``; ``SigningCertificateV2`` (digest of the signer's
  certificate); optionally ``SignerRole/ClaimedRoles``; one ``DataObjectFormat`` (description and MIME
  type) per object reference; one ``CommitmentTypeIndication`` over all signed objects whose
  ``CommitmentTypeQualifier`` carries the caller's element (the book's ``SigningContext``);
- the ``ds:KeyInfo`` holding the signer's certificate.

B-T: ``add_signature_timestamp`` puts ``UnsignedProperties/UnsignedSignatureProperties/
SignatureTimeStamp`` (exclusive C14N, one ``XMLTimeStamp``) over the digest of the canonical
``ds:SignatureValue`` element, as XAdES defines it. signxml verifies the B-B part; ``verify_detached``
adds what signxml leaves out: the certificate against the bus CA and CRL at the right moment, the
signing time, the timestamp, and the exact set of references.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import lxml.etree as etree
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from signxml import CanonicalizationMethod, DigestAlgorithm
from signxml.algorithms import SignatureConstructionMethod
from signxml.exceptions import SignXMLException
from signxml.signer import SignatureReference
from signxml.xades import XAdESSignatureConfiguration, XAdESSigner, XAdESVerifier

from teleservices.signature_book._bus import (
    Fault,
    FaultCode,
    ParticipantId,
    SigningIdentity,
    TrustedSigner,
    TrustStore,
    parse_untrusted,
)
from teleservices.signature_book.errors import SignatureRefused
from teleservices.signature_book.times import utc_now
from teleservices.signature_book.timestamp import (
    ALLOWED_DIGESTS,
    ALLOWED_SIGNATURE_METHODS,
    SHA256_URI,
    TimestampInfo,
    TimestampService,
    signature_method,
    verify_token,
)

DS_NS = "http://www.w3.org/2000/09/xmldsig#"
XADES_NS = "http://uri.etsi.org/01903/v1.3.2#"
DS = f"{{{DS_NS}}}"
XADES = f"{{{XADES_NS}}}"
SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"
PROOF_OF_APPROVAL = "http://uri.etsi.org/01903/v1.2.2#ProofOfApproval"
PROOF_OF_ORIGIN = "http://uri.etsi.org/01903/v1.2.2#ProofOfOrigin"
EXC_C14N = CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0
CLOCK_SKEW = timedelta(minutes=5)
MAX_SIGNATURE_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class DetachedObject:
    """A file signed by reference: its bundle path, bytes and declared format."""

    uri: str
    content: bytes
    mime_type: str
    description: str


class _DetachedSigner(XAdESSigner):
    """signxml's XAdES signer, taught to reference external files and to add our signed properties."""

    def __init__(
        self,
        objects: Sequence[DetachedObject],
        *,
        commitment: str,
        qualifier: etree._Element | None,
        claimed_roles: Sequence[str],
        signing_time: datetime,
        rsa_key: bool,
    ) -> None:
        super().__init__(
            claimed_roles=list(claimed_roles) or None,
            method=SignatureConstructionMethod.detached,
            signature_algorithm=signature_method(rsa_key),
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=EXC_C14N,
        )
        self._objects = {obj.uri: obj for obj in objects}
        self._commitment = commitment
        self._qualifier = qualifier
        self._signing_time = signing_time
        self.signed_data_object_properties_annotators.append(self._add_commitment)

    def _unpack(self, data: Any, references: list[SignatureReference]) -> tuple[Any, Any, list[Any], Any]:
        sig_root = etree.Element(self._ds_tag("Signature"), nsmap=self.namespaces)
        return sig_root, sig_root, [self._objects[ref.URI].content for ref in references], references

    def _c14n(
        self, nodes: Any, algorithm: CanonicalizationMethod, inclusive_ns_prefixes: Any = None
    ) -> bytes:
        if isinstance(nodes, bytes):
            return nodes
        return super()._c14n(nodes, algorithm=algorithm, inclusive_ns_prefixes=inclusive_ns_prefixes)

    def _build_transforms_for_reference(self, *, transforms_node: Any, reference: Any, **_: Any) -> None:
        transforms_node.getparent().remove(transforms_node)

    def _add_reference_to_signed_info(self, sig_root: Any, node_to_reference: Any, **attrs: Any) -> None:
        super()._add_reference_to_signed_info(sig_root, node_to_reference, **attrs)
        reference = self._find(sig_root, "ds:SignedInfo")[-1]
        transforms = etree.Element(DS + "Transforms")
        etree.SubElement(transforms, DS + "Transform", Algorithm=EXC_C14N.value)
        reference.insert(0, transforms)

    def add_signing_time(
        self, signed_signature_properties: Any, sig_root: Any, signing_settings: Any
    ) -> None:
        element = etree.SubElement(signed_signature_properties, XADES + "SigningTime", nsmap=self.namespaces)
        element.text = self._signing_time.isoformat(timespec="seconds")

    def add_data_object_format(
        self, signed_data_object_properties: Any, sig_root: Any, signing_settings: Any
    ) -> None:
        signed_info = self._find(sig_root, "ds:SignedInfo")
        for index, reference in enumerate(self._findall(signed_info, "ds:Reference")):
            obj = self._objects[reference.get("URI")]
            reference.set("Id", f"{sig_root.get('Id')}-ref-{index}")
            fmt = etree.SubElement(
                signed_data_object_properties,
                XADES + "DataObjectFormat",
                nsmap=self.namespaces,
                ObjectReference=f"#{reference.get('Id')}",
            )
            etree.SubElement(fmt, XADES + "Description").text = obj.description
            etree.SubElement(fmt, XADES + "MimeType").text = obj.mime_type

    def _add_commitment(
        self, signed_data_object_properties: Any, sig_root: Any, signing_settings: Any
    ) -> None:
        indication = etree.SubElement(signed_data_object_properties, XADES + "CommitmentTypeIndication")
        type_id = etree.SubElement(indication, XADES + "CommitmentTypeId")
        etree.SubElement(type_id, XADES + "Identifier").text = self._commitment
        etree.SubElement(indication, XADES + "AllSignedDataObjects")
        if self._qualifier is not None:
            qualifiers = etree.SubElement(indication, XADES + "CommitmentTypeQualifiers")
            etree.SubElement(qualifiers, XADES + "CommitmentTypeQualifier").append(self._qualifier)


class DetachedXadesSigner:
    """Signs files with one identity's key (parsed once: build one per process and reuse it)."""

    def __init__(self, identity: SigningIdentity) -> None:
        self.identity = identity
        self._key = serialization.load_pem_private_key(identity.key_pem, password=None)

    @property
    def participant(self) -> ParticipantId:
        return self.identity.participant

    def sign(
        self,
        objects: Sequence[DetachedObject],
        *,
        commitment: str,
        qualifier: etree._Element | None = None,
        claimed_roles: Sequence[str] = (),
        signing_time: datetime | None = None,
    ) -> bytes:
        """A detached XAdES B-B signature (UTF-8 XML) over ``objects``."""
        if not objects or len({obj.uri for obj in objects}) != len(objects):
            raise ValueError("sign one or more objects with distinct URIs")
        signer = _DetachedSigner(
            objects,
            commitment=commitment,
            qualifier=qualifier,
            claimed_roles=claimed_roles,
            signing_time=signing_time or utc_now(),
            rsa_key=isinstance(self._key, rsa.RSAPrivateKey),
        )
        signature = signer.sign(
            None,
            key=self._key,
            cert=[self.identity.certificate],
            reference_uri=[obj.uri for obj in objects],
            always_add_key_value=False,
        )
        return etree.tostring(signature, encoding="UTF-8")


def signature_value_digest(root: etree._Element) -> bytes:
    """SHA-256 of the exclusive canonical form of ``ds:SignatureValue``: what B-T timestamps."""
    value = root.find(DS + "SignatureValue")
    if value is None:
        raise SignatureRefused("no SignatureValue", code=str(FaultCode.INVALID_SIGNATURE))
    return hashlib.sha256(etree.tostring(value, method="c14n", exclusive=True, with_comments=False)).digest()


def add_signature_timestamp(signature: bytes, service: TimestampService) -> bytes:
    """Raise a B-B signature to B-T: a SignatureTimeStamp over its SignatureValue, as an unsigned property."""
    root = parse_untrusted(signature, max_bytes=MAX_SIGNATURE_BYTES)
    qualifying = root.find(f"{DS}Object/{XADES}QualifyingProperties")
    if qualifying is None or qualifying.find(XADES + "UnsignedProperties") is not None:
        raise ValueError("not a B-B XAdES signature")
    token = parse_untrusted(service.timestamp(signature_value_digest(root), digest_algorithm=SHA256_URI))
    unsigned = etree.SubElement(qualifying, XADES + "UnsignedProperties")
    properties = etree.SubElement(unsigned, XADES + "UnsignedSignatureProperties")
    stamp = etree.SubElement(properties, XADES + "SignatureTimeStamp", Id=f"{root.get('Id')}-timestamp")
    etree.SubElement(stamp, DS + "CanonicalizationMethod", Algorithm=EXC_C14N.value)
    etree.SubElement(stamp, XADES + "XMLTimeStamp").append(token)
    return etree.tostring(root, encoding="UTF-8")


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """What a verified detached XAdES signature establishes, read from its signed part only."""

    signer: TrustedSigner
    signing_time: datetime
    checked_at: datetime
    commitment: str
    qualifier: etree._Element | None
    claimed_roles: tuple[str, ...]
    formats: dict[str, tuple[str | None, str | None]]
    timestamp: TimestampInfo | None

    @property
    def level(self) -> str:
        """``B-T`` when a verified timestamp proves the signature existed at its time, else ``B-B``."""
        return "B-T" if self.timestamp is not None else "B-B"


def _refuse(code: FaultCode | str, reason: str) -> SignatureRefused:
    return SignatureRefused(reason, code=str(code))


def _text(element: etree._Element | None) -> str | None:
    return None if element is None else "".join(element.itertext())


def _certificate(root: etree._Element) -> bytes:
    key_info = root.find(DS + "KeyInfo")
    certs = [] if key_info is None else key_info.findall(f"{DS}X509Data/{DS}X509Certificate")
    if len(certs) != 1 or key_info is None or key_info.find(DS + "KeyValue") is not None:
        raise _refuse(
            FaultCode.UNTRUSTED_CERTIFICATE, "the signature must carry exactly one certificate, no KeyValue"
        )
    try:
        return base64.b64decode("".join(certs[0].itertext()).strip())
    except ValueError:
        raise _refuse(FaultCode.UNTRUSTED_CERTIFICATE, "unreadable certificate") from None


def _check_references(root: etree._Element, uris: Collection[str]) -> None:
    references = root.findall(f"{DS}SignedInfo/{DS}Reference")
    external = [r.get("URI") for r in references if not (r.get("URI") or "").startswith("#")]
    internal = [r for r in references if (r.get("URI") or "").startswith("#")]
    if sorted(u or "" for u in external) != sorted(uris):
        raise _refuse(
            FaultCode.INVALID_REFERENCE,
            f"the signature covers {sorted(u or '' for u in external)}, not exactly {sorted(uris)}",
        )
    key_info = root.find(DS + "KeyInfo")
    key_info_uri = f"#{key_info.get('Id')}" if key_info is not None else None
    kinds = sorted(
        "properties" if r.get("Type") == SIGNED_PROPERTIES_TYPE else r.get("URI") or "" for r in internal
    )
    if len(internal) != 2 or kinds != sorted(["properties", key_info_uri or "?"]):
        raise _refuse(
            FaultCode.INVALID_REFERENCE, "the signature must reference its SignedProperties and KeyInfo once"
        )


def _timestamp(
    root: etree._Element, trust: TrustStore, authorities: Collection[ParticipantId] | None
) -> TimestampInfo | None:
    unsigned = root.find(f"{DS}Object/{XADES}QualifyingProperties/{XADES}UnsignedProperties")
    if unsigned is None:
        return None
    properties = unsigned.findall(f"{XADES}UnsignedSignatureProperties/*")
    if len(unsigned) != 1 or len(properties) != 1 or properties[0].tag != XADES + "SignatureTimeStamp":
        raise _refuse(
            "Signature.InvalidTimestamp", "the only unsigned property allowed is one SignatureTimeStamp"
        )
    stamp = properties[0]
    method = stamp.find(DS + "CanonicalizationMethod")
    tokens = stamp.findall(f"{XADES}XMLTimeStamp")
    if method is None or method.get("Algorithm") != EXC_C14N.value or len(tokens) != 1 or len(tokens[0]) != 1:
        raise _refuse(
            "Signature.InvalidTimestamp", "a SignatureTimeStamp holds exclusive C14N and one XMLTimeStamp"
        )
    return verify_token(tokens[0][0], trust, digest=signature_value_digest(root), authorities=authorities)


def verify_detached(
    data: bytes,
    objects: Mapping[str, bytes],
    trust: TrustStore,
    *,
    at: datetime | None = None,
    allow_timestamp: bool = True,
    timestamp_authorities: Collection[ParticipantId] | None = None,
) -> VerifiedSignature:
    """Verify a detached XAdES signature over exactly ``objects`` (URI -> bytes), or raise ``SignatureRefused``.

    The signer's certificate must chain to the bus CA, carry digitalSignature and nonRepudiation, and be
    valid and unrevoked at the trusted moment: the timestamp's time for B-T, else ``at`` (default now).
    The claimed SigningTime must fall within the certificate's validity and not after that moment.
    """
    try:
        root = parse_untrusted(data, max_bytes=MAX_SIGNATURE_BYTES)
    except Fault as fault:
        raise _refuse(fault.code, fault.reason) from None
    if root.tag != DS + "Signature":
        raise _refuse(FaultCode.SIGNATURE_PLACEMENT, "a detached signature file has ds:Signature as its root")
    _check_references(root, list(objects))
    certificate_der = _certificate(root)
    timestamp = _timestamp(root, trust, timestamp_authorities)
    if timestamp is not None and not allow_timestamp:
        raise _refuse(
            "Signature.UnexpectedTimestamp", "submit a B-B signature: the book adds the timestamp itself"
        )
    moment = timestamp.time if timestamp is not None else (at or utc_now())
    try:
        signer = trust.check(certificate_der, at=moment)
    except Fault as fault:
        raise _refuse(fault.code, fault.reason) from None
    _check_non_repudiation(signer.certificate)
    config = XAdESSignatureConfiguration(
        location="./",
        expect_references=len(objects) + 2,
        signature_methods=ALLOWED_SIGNATURE_METHODS,
        digest_algorithms=ALLOWED_DIGESTS,
        verification_time=moment,
    )
    try:
        results = XAdESVerifier().verify(
            data, x509_cert=signer.certificate, uri_resolver=objects.get, expect_config=config
        )
    except (SignXMLException, ValueError, KeyError) as error:
        raise _refuse(FaultCode.INVALID_SIGNATURE, f"XAdES verification failed: {error}") from None
    signed_properties = next((r.signed_xml for r in results if hasattr(r, "signed_properties")), None)
    if signed_properties is None:
        raise _refuse(FaultCode.INVALID_SIGNATURE, "no verified SignedProperties")
    verified = _read_properties(root, signed_properties, signer, moment, timestamp)
    _check_signing_time(verified, signer, moment)
    return verified


def _check_non_repudiation(certificate: x509.Certificate) -> None:
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is None or not usage.content_commitment:
        raise _refuse(FaultCode.CERTIFICATE_NOT_FOR_SIGNING, "a signature certificate needs nonRepudiation")


def _read_properties(
    root: etree._Element,
    signed: etree._Element,
    signer: TrustedSigner,
    moment: datetime,
    timestamp: TimestampInfo | None,
) -> VerifiedSignature:
    ssp = f"{XADES}SignedSignatureProperties/"
    sdop = f"{XADES}SignedDataObjectProperties/"
    signing_time_text = _text(signed.find(f"{ssp}{XADES}SigningTime"))
    if signing_time_text is None:
        raise _refuse("Signature.MissingProperty", "the signature has no SigningTime")
    try:
        signing_time = datetime.fromisoformat(signing_time_text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _refuse("Signature.MissingProperty", f"unreadable SigningTime {signing_time_text!r}") from None
    if signing_time.tzinfo is None:
        raise _refuse("Signature.MissingProperty", "SigningTime must carry its time zone")
    roles = tuple(
        _text(e) or ""
        for e in signed.findall(f"{ssp}{XADES}SignerRole/{XADES}ClaimedRoles/{XADES}ClaimedRole")
    )
    indications = signed.findall(f"{sdop}{XADES}CommitmentTypeIndication")
    if len(indications) != 1:
        raise _refuse("Signature.MissingProperty", "the signature carries one CommitmentTypeIndication")
    commitment = _text(indications[0].find(f"{XADES}CommitmentTypeId/{XADES}Identifier")) or ""
    qualifiers = indications[0].findall(f"{XADES}CommitmentTypeQualifiers/{XADES}CommitmentTypeQualifier")
    qualifier = None
    if qualifiers:
        children = [c for c in qualifiers[0] if isinstance(c.tag, str)]
        if len(qualifiers) != 1 or len(children) != 1:
            raise _refuse("Signature.MissingProperty", "the commitment carries one qualifier element")
        qualifier = children[0]
    ids = {
        f"#{r.get('Id')}": r.get("URI") for r in root.findall(f"{DS}SignedInfo/{DS}Reference") if r.get("Id")
    }
    formats: dict[str, tuple[str | None, str | None]] = {}
    for fmt in signed.findall(f"{sdop}{XADES}DataObjectFormat"):
        uri = ids.get(fmt.get("ObjectReference") or "")
        if uri is None or uri.startswith("#") or uri in formats:
            raise _refuse("Signature.MissingProperty", "a DataObjectFormat refers to no signed document")
        formats[uri] = (_text(fmt.find(XADES + "MimeType")), _text(fmt.find(XADES + "Description")))
    return VerifiedSignature(signer, signing_time, moment, commitment, qualifier, roles, formats, timestamp)


def _check_signing_time(verified: VerifiedSignature, signer: TrustedSigner, moment: datetime) -> None:
    claimed = verified.signing_time
    if not signer.not_before <= claimed <= signer.not_after:
        raise _refuse(
            FaultCode.EXPIRED_CERTIFICATE,
            f"SigningTime {claimed.isoformat()} is outside the certificate's validity",
        )
    if claimed > moment + CLOCK_SKEW:
        raise _refuse(
            "Signature.SigningTime",
            f"SigningTime {claimed.isoformat()} is after the moment it is verified at ({moment.isoformat()})",
        )
