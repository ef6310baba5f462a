"""Sign an envelope: one enveloped XML-DSig Signature over the whole document, appended last.

What is signed: the entire Envelope (Header and Body) through a single Reference URI="" with the
enveloped-signature and exclusive C14N transforms, SHA-256 digest, ECDSA-P256-SHA256 or RSA-SHA256
signature. The signer's certificate is in KeyInfo/X509Data, outside what is signed (the verifier
checks it against the bus CA and the signature against its key).
"""

from __future__ import annotations

import base64
import copy
import hashlib
from functools import lru_cache

import lxml.etree as etree
import xmlsec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from bus.envelope.algorithms import DSIG_NS, ENVELOPED, EXC_C14N
from bus.envelope.codec import envelope_tree
from bus.envelope.model import Header, check_header
from bus.pki.identity import SigningIdentity

_ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
_RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
_SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"


@lru_cache(maxsize=64)
def _signature_template(certificate_der: bytes, is_rsa: bool) -> str:
    """The Signature element to be filled by libxmlsec, with the signer's certificate already in KeyInfo."""
    method = _RSA_SHA256 if is_rsa else _ECDSA_SHA256
    certificate = base64.encodebytes(certificate_der).decode("ascii")
    return (
        f'<ds:Signature xmlns:ds="{DSIG_NS}">\n<ds:SignedInfo>\n'
        f'<ds:CanonicalizationMethod Algorithm="{EXC_C14N}"/>\n'
        f'<ds:SignatureMethod Algorithm="{method}"/>\n'
        '<ds:Reference URI="">\n<ds:Transforms>\n'
        f'<ds:Transform Algorithm="{ENVELOPED}"/>\n'
        f'<ds:Transform Algorithm="{EXC_C14N}"/>\n'
        "</ds:Transforms>\n"
        f'<ds:DigestMethod Algorithm="{_SHA256}"/>\n'
        "<ds:DigestValue/>\n</ds:Reference>\n</ds:SignedInfo>\n<ds:SignatureValue/>\n"
        f"<ds:KeyInfo>\n<ds:X509Data>\n<ds:X509Certificate>{certificate}</ds:X509Certificate>\n"
        "</ds:X509Data>\n</ds:KeyInfo>\n</ds:Signature>"
    )


def _sign(signature: etree._Element, key: xmlsec.Key) -> None:
    context = xmlsec.SignatureContext()
    context.key = key
    context.sign(signature)


def _sign_on_token(root: etree._Element, key: ec.EllipticCurvePrivateKey) -> None:
    """Fill the template of the Signature (``root``'s last child) with a key that signs elsewhere
    (a PKCS#11 token): the Reference digest is SHA-256 of the document's exclusive canonical form without
    the Signature (the enveloped-signature transform), the value ECDSA over SignedInfo's exclusive
    canonical form, written as r || s. libxmlsec verifies it like any other."""
    signature = root[-1]
    unsigned = copy.deepcopy(root)
    unsigned.remove(unsigned[-1])
    document = etree.tostring(unsigned, method="c14n", exclusive=True, with_comments=False)
    digest_value = signature.find(f"{{{DSIG_NS}}}SignedInfo/{{{DSIG_NS}}}Reference/{{{DSIG_NS}}}DigestValue")
    signature_value = signature.find(f"{{{DSIG_NS}}}SignatureValue")
    signed_info = signature.find(f"{{{DSIG_NS}}}SignedInfo")
    assert digest_value is not None and signature_value is not None and signed_info is not None
    digest_value.text = base64.b64encode(hashlib.sha256(document).digest()).decode("ascii")
    canonical = etree.tostring(signed_info, method="c14n", exclusive=True, with_comments=False)
    r, s = decode_dss_signature(key.sign(canonical, ec.ECDSA(hashes.SHA256())))
    size = (key.curve.key_size + 7) // 8
    signature_value.text = base64.b64encode(r.to_bytes(size, "big") + s.to_bytes(size, "big")).decode("ascii")


def _sign_as(root: etree._Element, identity: SigningIdentity) -> None:
    if identity.token_key is not None:
        _sign_on_token(root, identity.token_key)
    else:
        assert identity.xmlsec_key is not None
        _sign(root[-1], identity.xmlsec_key)


def append_signature(
    root: etree._Element, key: xmlsec.Key, certificate_der: bytes, *, is_rsa: bool
) -> etree._Element:
    """Sign any govbus document (envelope, catalogue) with this profile: a Signature appended last,
    covering the whole document, with ``certificate_der`` in KeyInfo; return the tree."""
    root.append(etree.fromstring(_signature_template(certificate_der, is_rsa)))
    _sign(root[-1], key)
    return root


def sign_tree(root: etree._Element, identity: SigningIdentity) -> etree._Element:
    """Append a Signature to an unsigned envelope tree, signed by ``identity``; return the tree."""
    root.append(etree.fromstring(_signature_template(identity.certificate_der, identity.is_rsa)))
    _sign_as(root, identity)
    return root


def sign_envelope(header: Header, payload: etree._Element, identity: SigningIdentity) -> bytes:
    """Build, sign and serialise an envelope. ``header.client`` must be the signer.

    Refuses (with the verifier's fault code) a header no verifier would accept (``check_header``);
    raises ValueError for header text XML cannot carry (control characters).
    """
    if header.client != identity.participant:
        raise ValueError(f"{identity.participant} cannot sign a message whose client is {header.client}")
    check_header(header)
    root = envelope_tree(header, payload, _signature_template(identity.certificate_der, identity.is_rsa))
    _sign_as(root, identity)
    return etree.tostring(root, encoding="UTF-8")
