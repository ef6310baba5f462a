"""Timestamps for XAdES B-T: a small service interface and a local timestamp authority on the bus PKI.

Honest scope: this is NOT an RFC 3161 time-stamping authority. govbus has no ASN.1/CMS library, and
an RFC 3161 client would need a TSA to test against. ``LocalTimestampAuthority`` instead issues a
govbus XML timestamp token, signed (XML-DSig, enveloped) with a bus participant's key::

    <ts:TimeStampToken xmlns:ts="urn:govbus:signature-book:timestamp:1" Id="govbus-ts-...">
      <ts:authority>MA/GOV/MEF/horodatage</ts:authority>
      <ts:serial>UUID</ts:serial>
      <ts:genTime>2026-11-21T10:15:30.123Z</ts:genTime>
      <ts:messageImprint algorithm="http://www.w3.org/2001/04/xmlenc#sha256">BASE64</ts:messageImprint>
      <ds:Signature>... one Reference to #Id, enveloped + exclusive C14N ...</ds:Signature>
    </ts:TimeStampToken>

It travels in the XAdES ``SignatureTimeStamp`` as ``XMLTimeStamp`` (which XAdES allows). Its trust
rests on the bus CA and on the relying party accepting that participant as a timestamp authority.
An RFC 3161 service would implement the same ``TimestampService`` and travel as
``EncapsulatedTimeStamp``.
"""

from __future__ import annotations

import base64
import hmac
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import lxml.etree as etree
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from signxml import CanonicalizationMethod, DigestAlgorithm, SignatureConfiguration, XMLSigner, XMLVerifier
from signxml.algorithms import SignatureConstructionMethod, SignatureMethod
from signxml.exceptions import SignXMLException

from teleservices.signature_book._bus import Fault, FaultCode, ParticipantId, SigningIdentity, TrustStore
from teleservices.signature_book.errors import SignatureRefused
from teleservices.signature_book.times import format_timestamp, parse_timestamp, utc_now

TS_NS = "urn:govbus:signature-book:timestamp:1"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
SHA256_URI = DigestAlgorithm.SHA256.value
TOKEN_TAG = f"{{{TS_NS}}}TimeStampToken"
ALLOWED_SIGNATURE_METHODS = frozenset(
    {
        SignatureMethod.ECDSA_SHA256,
        SignatureMethod.ECDSA_SHA384,
        SignatureMethod.RSA_SHA256,
        SignatureMethod.RSA_SHA384,
    }
)
ALLOWED_DIGESTS = frozenset({DigestAlgorithm.SHA256, DigestAlgorithm.SHA384, DigestAlgorithm.SHA512})


class TimestampService(Protocol):
    """Anything that attests "this digest existed at this time" with a verifiable token."""

    @property
    def authority(self) -> ParticipantId:
        """Who issues the tokens."""
        ...

    def timestamp(self, digest: bytes, *, digest_algorithm: str = SHA256_URI) -> bytes:
        """A token (UTF-8 XML) over ``digest``."""
        ...


@dataclass(frozen=True, slots=True)
class TimestampInfo:
    """What a verified token says."""

    authority: ParticipantId
    serial: str
    time: datetime
    digest_algorithm: str
    digest: bytes


def _refused(code: str, reason: str) -> SignatureRefused:
    return SignatureRefused(reason, code=code)


def signature_method(identity_is_rsa: bool) -> SignatureMethod:
    return SignatureMethod.RSA_SHA256 if identity_is_rsa else SignatureMethod.ECDSA_SHA256


class LocalTimestampAuthority:
    """A timestamp authority run by the book operator with a bus participant's key (key parsed once)."""

    def __init__(self, identity: SigningIdentity, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.identity = identity
        self._key = serialization.load_pem_private_key(identity.key_pem, password=None)
        self._clock = clock
        self._method = signature_method(isinstance(self._key, rsa.RSAPrivateKey))

    @property
    def authority(self) -> ParticipantId:
        return self.identity.participant

    def timestamp(self, digest: bytes, *, digest_algorithm: str = SHA256_URI) -> bytes:
        serial = str(uuid.uuid4())
        token_id = f"govbus-ts-{serial}"
        root = etree.Element(TOKEN_TAG, nsmap={"ts": TS_NS}, Id=token_id)
        etree.SubElement(root, f"{{{TS_NS}}}authority").text = str(self.authority)
        etree.SubElement(root, f"{{{TS_NS}}}serial").text = serial
        etree.SubElement(root, f"{{{TS_NS}}}genTime").text = format_timestamp(self._clock())
        imprint = etree.SubElement(root, f"{{{TS_NS}}}messageImprint", algorithm=digest_algorithm)
        imprint.text = base64.b64encode(digest).decode()
        signer = XMLSigner(
            method=SignatureConstructionMethod.enveloped,
            signature_algorithm=self._method,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        )
        signed = signer.sign(
            root, key=self._key, cert=[self.identity.certificate], reference_uri=f"#{token_id}"
        )
        return etree.tostring(signed, encoding="UTF-8")


def _text(element: etree._Element, name: str) -> str:
    found = element.find(f"{{{TS_NS}}}{name}")
    if found is None:
        raise _refused("Signature.InvalidTimestamp", f"the timestamp token has no {name}")
    return "".join(found.itertext())


def _certificate_der(token: etree._Element) -> bytes:
    certs = token.findall(
        f"{{{DS_NS}}}Signature/{{{DS_NS}}}KeyInfo/{{{DS_NS}}}X509Data/{{{DS_NS}}}X509Certificate"
    )
    if len(certs) != 1:
        raise _refused("Signature.InvalidTimestamp", "the timestamp token carries one certificate")
    try:
        return base64.b64decode("".join(certs[0].itertext()).strip(), validate=False)
    except ValueError:
        raise _refused("Signature.InvalidTimestamp", "unreadable timestamp certificate") from None


def verify_token(
    token: etree._Element,
    trust: TrustStore,
    *,
    digest: bytes,
    digest_algorithm: str = SHA256_URI,
    authorities: Collection[ParticipantId] | None = None,
) -> TimestampInfo:
    """Verify a govbus timestamp token over ``digest`` and return what it attests.

    The token's signer must chain to the bus CA and be valid and unrevoked at the token's time; when
    ``authorities`` is given, it must be one of them.
    """
    if token.tag != TOKEN_TAG:
        raise _refused("Signature.InvalidTimestamp", f"{token.tag} is not a govbus timestamp token")
    try:
        claimed_time = parse_timestamp(_text(token, "genTime"))
    except ValueError:
        raise _refused("Signature.InvalidTimestamp", "unreadable timestamp time") from None
    try:
        signer = trust.check(_certificate_der(token), at=claimed_time)
    except Fault as fault:
        raise _refused(str(fault.code), f"timestamp authority: {fault.reason}") from None
    if authorities is not None and signer.participant not in authorities:
        raise _refused(
            "Signature.UntrustedTimestampAuthority",
            f"{signer.participant} is not an accepted timestamp authority",
        )
    token_id = token.get("Id")
    config = SignatureConfiguration(
        location="./",
        expect_references=1,
        signature_methods=ALLOWED_SIGNATURE_METHODS,
        digest_algorithms=ALLOWED_DIGESTS,
        verification_time=claimed_time,
    )
    try:
        result = XMLVerifier().verify(
            etree.tostring(token), x509_cert=signer.certificate, expect_config=config, id_attribute="Id"
        )
    except (SignXMLException, ValueError) as error:
        raise _refused(str(FaultCode.INVALID_SIGNATURE), f"timestamp token: {error}") from None
    assert not isinstance(result, list)
    signed = result.signed_xml
    references = result.signature_xml.findall(f"{{{DS_NS}}}SignedInfo/{{{DS_NS}}}Reference")
    if (
        signed is None
        or signed.tag != TOKEN_TAG
        or token_id is None
        or len(references) != 1
        or references[0].get("URI") != f"#{token_id}"
    ):
        raise _refused("Signature.InvalidTimestamp", "the token's signature does not cover the whole token")
    imprint = signed.find(f"{{{TS_NS}}}messageImprint")
    if imprint is None or imprint.get("algorithm") != digest_algorithm:
        raise _refused("Signature.InvalidTimestamp", "the token's imprint algorithm is not the expected one")
    try:
        imprinted = base64.b64decode("".join(imprint.itertext()), validate=True)
        time = parse_timestamp(_text(signed, "genTime"))
        authority = ParticipantId.parse(_text(signed, "authority"))
    except (ValueError, Fault):
        raise _refused("Signature.InvalidTimestamp", "unreadable timestamp token fields") from None
    if time != claimed_time or authority != signer.participant:
        raise _refused(
            "Signature.InvalidTimestamp", "the token's signed fields differ from its signer or time"
        )
    if not hmac.compare_digest(imprinted, digest):
        raise _refused("Signature.TimestampMismatch", "the timestamp does not cover this signature value")
    return TimestampInfo(authority, _text(signed, "serial"), time, digest_algorithm, imprinted)
