"""Check the signature value over SignedInfo alone, before libxmlsec digests the whole document.

libxmlsec computes the Reference digest (exclusive C14N of the entire envelope) before it compares the
signature value, so without this step anyone holding a trusted certificate (they are public: every
envelope carries one) can make a receiver canonicalise megabytes for a signature that was never made.
SignedInfo is a few hundred bytes; checking its signature first costs one public-key operation and
leaves the document's canonicalisation to messages whose SignedInfo the certificate's owner signed.
``verify_signature_value`` still checks everything again (digest and value) with libxmlsec.
"""

from __future__ import annotations

import base64
import binascii

import lxml.etree as etree
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from bus.faults import Fault, FaultCode

_MORE = "http://www.w3.org/2001/04/xmldsig-more#"
_HASHES: dict[str, tuple[str, type[hashes.HashAlgorithm]]] = {
    _MORE + "ecdsa-sha256": ("ec", hashes.SHA256),
    _MORE + "ecdsa-sha384": ("ec", hashes.SHA384),
    _MORE + "ecdsa-sha512": ("ec", hashes.SHA512),
    _MORE + "rsa-sha256": ("rsa", hashes.SHA256),
    _MORE + "rsa-sha384": ("rsa", hashes.SHA384),
    _MORE + "rsa-sha512": ("rsa", hashes.SHA512),
}


def check_signed_info(signature: etree._Element, key: PublicKeyTypes, method: str) -> None:
    """Raise ``Client.InvalidSignature`` unless SignatureValue is ``key``'s signature of the exclusive
    canonical form of SignedInfo with ``method`` (one of the allowed methods; the shape is pinned)."""
    family, algorithm = _HASHES[method]
    signed_info, signature_value = signature[0], signature[1]
    try:
        value = base64.b64decode("".join((signature_value.text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        raise Fault(FaultCode.INVALID_SIGNATURE, "SignatureValue is not base64") from None
    data = etree.tostring(signed_info, method="c14n", exclusive=True, with_comments=False)
    try:
        if family == "ec" and isinstance(key, ec.EllipticCurvePublicKey):
            half = len(value) // 2
            if not value or len(value) % 2:
                raise InvalidSignature
            der = encode_dss_signature(
                int.from_bytes(value[:half], "big"), int.from_bytes(value[half:], "big")
            )
            key.verify(der, data, ec.ECDSA(algorithm()))
        elif family == "rsa" and isinstance(key, rsa.RSAPublicKey):
            key.verify(value, data, padding.PKCS1v15(), algorithm())
        else:
            raise Fault(FaultCode.INVALID_SIGNATURE, f"{method} does not fit the certificate's key")
    except InvalidSignature:
        raise Fault(
            FaultCode.INVALID_SIGNATURE, "the signature value does not verify over SignedInfo"
        ) from None
