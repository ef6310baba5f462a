"""Verify an envelope: every rule of the design brief, each broken rule its own fault code.

Order: size and parse (no DTD, no entities, no PIs) -> root -> signature placement -> schema and
header read -> SignedInfo (one Reference URI="", enveloped + exc-C14N only, allowed algorithms) ->
certificate (chain, validity, key usage, revocation) -> cryptographic check -> sender = signer -> time
window -> replay. The header is read from the same tree the signature check then covers, and used only
after that check; the parser has already dropped comments.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import lxml.etree as etree
import xmlsec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from bus.envelope.algorithms import (
    ALLOWED_DIGEST_METHODS,
    ALLOWED_SIGNATURE_METHODS,
    DSIG_NS,
    EXC_C14N,
    REQUIRED_TRANSFORMS,
    XMLSEC_TRANSFORM_BY_URI,
)
from bus.envelope.codec import ENVELOPE_TAG, envelope_schema, payload_of, read_header
from bus.envelope.model import MAX_LIFETIME, Header
from bus.envelope.replay import ReplayCache
from bus.envelope.signed_info import check_signed_info
from bus.faults import Fault, FaultCode
from bus.pki.trust import TrustedSigner, TrustStore
from bus.xml import DEFAULT_LIMITS, DEFAULT_MAX_BYTES, XmlLimits, parse_untrusted

_DS = "{" + DSIG_NS + "}"
_SIGNATURE = _DS + "Signature"
_SIGNATURE_PARTS = (_DS + "SignedInfo", _DS + "SignatureValue", _DS + "KeyInfo")
_SIGNED_INFO_PARTS = (_DS + "CanonicalizationMethod", _DS + "SignatureMethod", _DS + "Reference")
_REFERENCE_PARTS = (_DS + "Transforms", _DS + "DigestMethod", _DS + "DigestValue")
_TRANSFORMS = (_DS + "Transform", _DS + "Transform")
_KEY_INFO_PARTS = (_DS + "X509Data",)
_X509_DATA_PARTS = (_DS + "X509Certificate",)
_MAX_REMEMBERED_CERTIFICATES = 1024
SIGNED_INFO_FIRST_BYTES = 64 * 1024
"""Above this size the signature value over SignedInfo is checked before libxmlsec canonicalises and
digests the document (bus.envelope.signed_info); below it that work costs less than the extra check."""
_SHAPE = (
    (_SIGNATURE, 3),
    (_DS + "SignedInfo", 3),
    (_DS + "CanonicalizationMethod", 0),
    (_DS + "SignatureMethod", 0),
    (_DS + "Reference", 3),
    (_DS + "Transforms", 2),
    (_DS + "Transform", 0),
    (_DS + "Transform", 0),
    (_DS + "DigestMethod", 0),
    (_DS + "DigestValue", 0),
    (_DS + "SignatureValue", 0),
    (_DS + "KeyInfo", 1),
    (_DS + "X509Data", 1),
    (_DS + "X509Certificate", 0),
)


@dataclass(frozen=True, slots=True)
class VerificationPolicy:
    """Tunable limits of verification; the rules themselves are not optional."""

    clock_skew: timedelta = timedelta(seconds=30)
    max_lifetime: timedelta = MAX_LIFETIME
    max_bytes: int = DEFAULT_MAX_BYTES
    limits: XmlLimits = DEFAULT_LIMITS


@dataclass(frozen=True, slots=True)
class VerifiedEnvelope:
    """An envelope that passed every check; all its data comes from the verified tree."""

    header: Header
    root: etree._Element
    signer: TrustedSigner
    raw: bytes
    _digest: str = field(default="", compare=False, repr=False)

    @property
    def payload(self) -> etree._Element:
        """The single element inside Body."""
        return payload_of(self.root)

    @property
    def digest(self) -> str:
        """SHA-256 (hex) of the envelope bytes as received: the ``requestHash`` a reply carries.

        Computed on first use and kept (the idempotency claim, the handler's context and the answer's
        header all read it).
        """
        if not self._digest:
            object.__setattr__(self, "_digest", hashlib.sha256(self.raw).hexdigest())
        return self._digest


@dataclass(slots=True)
class _Check:
    """One envelope on its way through the rules: what each rule found, for the rules after it."""

    data: bytes
    at: datetime | None
    moment: datetime
    root: etree._Element | None = None
    signature: etree._Element | None = None
    header: Header | None = None
    certificate_text: str = ""
    method: str = ""
    digest: str = ""
    signer: TrustedSigner | None = None
    fault: Fault | None = None

    def verified(self) -> VerifiedEnvelope:
        assert self.header is not None and self.root is not None and self.signer is not None
        return VerifiedEnvelope(header=self.header, root=self.root, signer=self.signer, raw=bytes(self.data))


class EnvelopeVerifier:
    """Verifies envelopes against one bus trust store; thread-safe.

    With a ``replay_cache`` each id is accepted once; without one (auditors re-checking a stored
    message) the replay rule is skipped and everything else still applies.
    """

    def __init__(
        self,
        trust: TrustStore,
        *,
        replay_cache: ReplayCache | None = None,
        policy: VerificationPolicy | None = None,
    ) -> None:
        self.trust = trust
        self.replay_cache = replay_cache
        self.policy = policy or VerificationPolicy()
        self._keys: dict[bytes, xmlsec.Key] = {}
        self._public_keys: dict[bytes, PublicKeyTypes] = {}
        self._certificates: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._rules: tuple[Callable[[_Check], None], ...] = (
            self._parse,
            self._validate,
            self._read,
            self._trust,
            self._verify_signature,
            self._accept,
        )

    def verify(self, data: bytes, *, at: datetime | None = None) -> VerifiedEnvelope:
        """Return the verified envelope or raise the ``Fault`` of the first broken rule.

        ``at`` evaluates the time rules (message window, certificate validity, revocation) at another
        moment than now, for auditors; the replay rule then does not apply.
        """
        check = _Check(data, at, at or datetime.now(UTC))
        for rule in self._rules:
            rule(check)
        return check.verified()

    def verify_many(self, items: Sequence[tuple[bytes, datetime | None]]) -> list[VerifiedEnvelope | Fault]:
        """``verify`` each (data, at) pair: the verified envelope, or the ``Fault`` of its first broken rule.

        The same rules in the same order for each envelope, applied one rule to the whole batch at a
        time: libxml2, libxmlsec and OpenSSL then stay in the CPU's caches, which makes a batch of a few
        dozen envelopes about a quarter cheaper to verify than one envelope at a time (auditors
        re-checking a log; see bench/audit.py).
        """
        now = datetime.now(UTC)
        checks = [_Check(data, at, at or now) for data, at in items]
        live = checks
        for rule in self._rules:
            passed = []
            for check in live:
                try:
                    rule(check)
                except Fault as fault:
                    check.fault = fault
                else:
                    passed.append(check)
            live = passed
        return [check.fault if check.fault is not None else check.verified() for check in checks]

    def _parse(self, check: _Check) -> None:
        root = parse_untrusted(check.data, max_bytes=self.policy.max_bytes, limits=self.policy.limits)
        if root.tag != ENVELOPE_TAG:
            raise Fault(FaultCode.MALFORMED_MESSAGE, f"root element is {root.tag}, not a govbus Envelope")
        check.signature = _the_signature(root)
        check.root = root

    @staticmethod
    def _validate(check: _Check) -> None:
        schema = envelope_schema()
        assert check.root is not None
        if not schema.validate(check.root):
            error = schema.error_log.last_error  # type: ignore[attr-defined]  # lxml-stubs lack it
            where = f"line {error.line}: {error.message}" if error is not None else "invalid"
            raise Fault(FaultCode.SCHEMA_VIOLATION, where)

    @staticmethod
    def _read(check: _Check) -> None:
        # Read now (the tree does not change), trust only once the signature over it has verified.
        assert check.root is not None and check.signature is not None
        check.header = read_header(check.root)
        check.certificate_text, check.method, check.digest = _check_signed_info(check.signature)

    def _trust(self, check: _Check) -> None:
        check.signer = self.trust.check(self._certificate_der(check.certificate_text), at=check.moment)

    def _verify_signature(self, check: _Check) -> None:
        assert check.signature is not None and check.signer is not None
        if len(check.data) > SIGNED_INFO_FIRST_BYTES:  # before the document is canonicalised and digested
            public_key = self._public_keys.get(check.signer.der)
            if public_key is None:
                public_key = self._public_keys[check.signer.der] = check.signer.certificate.public_key()
            check_signed_info(check.signature, public_key, check.method)
        verify_signature_value(check.signature, self._key(check.signer), check.method, check.digest)

    def _accept(self, check: _Check) -> None:
        header, signer = check.header, check.signer
        assert header is not None and signer is not None
        if header.client != signer.participant:
            raise Fault(
                FaultCode.SENDER_MISMATCH,
                f"client {header.client} is not the signer {signer.participant}",
            )
        self._check_time(header, check.moment)
        if self.replay_cache is not None and check.at is None:
            until = header.expires + self.policy.clock_skew
            if not self.replay_cache.check_and_remember(header.id, until=until):
                raise Fault(FaultCode.REPLAY, f"message id {header.id} was already received")

    def _certificate_der(self, text: str) -> bytes:
        """The DER of an X509Certificate text; the bytes of a certificate seen before are reused, so the
        trust store's lookup hits its own (hash-cached) key instead of decoding and hashing again."""
        der = self._certificates.get(text)
        if der is None:
            der = _base64_certificate(text)
            known = self.trust.known(der)
            if known is not None:
                with self._lock:
                    if len(self._certificates) >= _MAX_REMEMBERED_CERTIFICATES:
                        self._certificates.clear()
                    self._certificates[text] = known
        return der

    def _key(self, signer: TrustedSigner) -> xmlsec.Key:
        """The signer's public key alone: libxmlsec copies it into each context, and a copy is cheap
        without the certificate (the trust store has already judged the certificate)."""
        key = self._keys.get(signer.der)
        if key is None:
            spki = signer.certificate.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            key = xmlsec.Key.from_memory(spki, xmlsec.constants.KeyDataFormatPem)
            with self._lock:
                self._keys[signer.der] = key
        return key

    def _check_time(self, header: Header, now: datetime) -> None:
        skew = self.policy.clock_skew
        if header.expires < header.issued:
            raise Fault(FaultCode.EXPIRED, "message expires before it was issued")
        if header.expires - header.issued > self.policy.max_lifetime:
            raise Fault(FaultCode.EXPIRED, f"message lifetime exceeds {self.policy.max_lifetime}")
        if header.issued > now + skew:
            raise Fault(FaultCode.ISSUED_IN_FUTURE, f"issued {header.issued.isoformat()} is in the future")
        if header.expires + skew < now:
            raise Fault(FaultCode.EXPIRED, f"message expired at {header.expires.isoformat()}")


def check_signature_shape(root: etree._Element) -> tuple[etree._Element, bytes, str, str]:
    """Pin the one Signature of a signed govbus document (envelope, catalogue): its place, shape and
    algorithms. Return (signature, signer certificate DER from KeyInfo, signature method, digest method)."""
    signature = _the_signature(root)
    certificate_text, method, digest = _check_signed_info(signature)
    return signature, _base64_certificate(certificate_text), method, digest


def verify_signature_value(signature: etree._Element, key: xmlsec.Key, method: str, digest: str) -> None:
    """Check the signature cryptographically with ``key``; libxmlsec gets the same policy, narrowed to
    the algorithms ``check_signature_shape`` accepted. ``Client.InvalidSignature`` when it fails."""
    context = xmlsec.SignatureContext()
    context.enable_signature_transform(xmlsec.constants.TransformExclC14N)
    context.enable_signature_transform(XMLSEC_TRANSFORM_BY_URI[method])
    context.enable_reference_transform(xmlsec.constants.TransformEnveloped)
    context.enable_reference_transform(xmlsec.constants.TransformExclC14N)
    context.enable_reference_transform(XMLSEC_TRANSFORM_BY_URI[digest])
    context.key = key
    try:
        context.verify(signature)
    except xmlsec.Error as error:
        raise Fault(FaultCode.INVALID_SIGNATURE, f"signature does not verify ({error})") from None


def _the_signature(root: etree._Element) -> etree._Element:
    signatures = list(root.iter(_SIGNATURE))
    if not signatures:
        raise Fault(FaultCode.SIGNATURE_PLACEMENT, "the envelope is not signed")
    if len(signatures) > 1:
        raise Fault(FaultCode.SIGNATURE_PLACEMENT, f"{len(signatures)} signatures; exactly one is allowed")
    if root[-1] is not signatures[0]:
        raise Fault(FaultCode.SIGNATURE_PLACEMENT, "the signature must be the last child of Envelope")
    return signatures[0]


def _tags(element: etree._Element) -> tuple[object, ...]:
    return tuple(child.tag for child in element)


def _check_signed_info(signature: etree._Element) -> tuple[str, str, str]:
    """Pin the signature's shape and algorithms.

    Return the signer certificate's base64 text from KeyInfo, the signature method and the digest method.

    A tree is fixed by its pre-order list of (tag, number of children): when that matches the one
    allowed shape, only the algorithms, the URI and the certificate remain to check, in the order
    ``_check_signature_in_detail`` checks them; any other shape goes there for its precise fault.
    """
    nodes = list(signature.iter())
    if len(nodes) != len(_SHAPE) or tuple([(node.tag, len(node)) for node in nodes]) != _SHAPE:
        return _check_signature_in_detail(signature)
    c14n, method, reference, first, second, digest = (nodes[i] for i in (2, 3, 4, 6, 7, 8))
    if c14n.get("Algorithm") != EXC_C14N:
        raise Fault(
            FaultCode.DISALLOWED_ALGORITHM, f"canonicalisation {c14n.get('Algorithm')} is not allowed"
        )
    if method.get("Algorithm") not in ALLOWED_SIGNATURE_METHODS:
        raise Fault(
            FaultCode.DISALLOWED_ALGORITHM, f"signature method {method.get('Algorithm')} is not allowed"
        )
    if reference.get("URI") != "":
        raise Fault(FaultCode.INVALID_REFERENCE, f'Reference URI must be "", not {reference.get("URI")!r}')
    if (first.get("Algorithm"), second.get("Algorithm")) != REQUIRED_TRANSFORMS:
        raise Fault(
            FaultCode.INVALID_REFERENCE,
            f"transforms must be enveloped-signature then exc-c14n, not {first.get('Algorithm')}, "
            f"{second.get('Algorithm')}",
        )
    if digest.get("Algorithm") not in ALLOWED_DIGEST_METHODS:
        raise Fault(FaultCode.DISALLOWED_ALGORITHM, f"digest method {digest.get('Algorithm')} is not allowed")
    return nodes[-1].text or "", method.get("Algorithm", ""), digest.get("Algorithm", "")


def _check_signature_in_detail(signature: etree._Element) -> tuple[str, str, str]:
    """Every shape, algorithm and KeyInfo rule, one after the other, each with its own fault."""
    if _tags(signature) != _SIGNATURE_PARTS or len(signature[1]):
        raise Fault(
            FaultCode.SIGNATURE_PLACEMENT,
            f"Signature must hold SignedInfo, SignatureValue, KeyInfo; it holds {_names(signature)}",
        )
    signed_info, _, key_info = signature
    if _tags(signed_info) != _SIGNED_INFO_PARTS:
        raise Fault(FaultCode.INVALID_REFERENCE, "SignedInfo must hold exactly one Reference")
    c14n, method, reference = signed_info
    if c14n.get("Algorithm") != EXC_C14N or len(c14n):
        raise Fault(
            FaultCode.DISALLOWED_ALGORITHM, f"canonicalisation {c14n.get('Algorithm')} is not allowed"
        )
    if method.get("Algorithm") not in ALLOWED_SIGNATURE_METHODS or len(method):
        raise Fault(
            FaultCode.DISALLOWED_ALGORITHM, f"signature method {method.get('Algorithm')} is not allowed"
        )
    if reference.get("URI") != "":
        raise Fault(FaultCode.INVALID_REFERENCE, f'Reference URI must be "", not {reference.get("URI")!r}')
    if _tags(reference) != _REFERENCE_PARTS:
        raise Fault(FaultCode.INVALID_REFERENCE, "Reference must hold Transforms, DigestMethod, DigestValue")
    transforms, digest, digest_value = reference
    if (
        _tags(transforms) != _TRANSFORMS
        or tuple(t.get("Algorithm") for t in transforms) != REQUIRED_TRANSFORMS
        or len(transforms[0])
        or len(transforms[1])
    ):
        algorithms = ", ".join(str(t.get("Algorithm")) for t in transforms)
        raise Fault(
            FaultCode.INVALID_REFERENCE,
            f"transforms must be enveloped-signature then exc-c14n, not {algorithms}",
        )
    if len(digest) or len(digest_value):
        raise Fault(FaultCode.INVALID_REFERENCE, "DigestMethod and DigestValue hold no elements")
    if digest.get("Algorithm") not in ALLOWED_DIGEST_METHODS:
        raise Fault(FaultCode.DISALLOWED_ALGORITHM, f"digest method {digest.get('Algorithm')} is not allowed")
    return _certificate(key_info), method.get("Algorithm", ""), digest.get("Algorithm", "")


def _names(element: etree._Element) -> str:
    return ", ".join(etree.QName(child).localname if isinstance(child.tag, str) else "?" for child in element)


def _certificate(key_info: etree._Element) -> str:
    if _tags(key_info) != _KEY_INFO_PARTS or _tags(key_info[0]) != _X509_DATA_PARTS or len(key_info[0][0]):
        raise Fault(
            FaultCode.UNTRUSTED_CERTIFICATE, "KeyInfo must carry exactly one X509Data/X509Certificate"
        )
    return key_info[0][0].text or ""


def _base64_certificate(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        raise Fault(FaultCode.UNTRUSTED_CERTIFICATE, "X509Certificate is not base64") from None
