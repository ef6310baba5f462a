"""Sign an envelope: one enveloped XML-DSig Signature over the whole document, appended last.

What is signed: the entire Envelope (Header and Body) through a single Reference URI="" with the
enveloped-signature and exclusive C14N transforms, SHA-256 digest, ECDSA-P256-SHA256 or RSA-SHA256
signature, and the signer's certificate in KeyInfo/X509Data.
"""

from __future__ import annotations

import lxml.etree as etree
import xmlsec

from bus.envelope.codec import build_envelope
from bus.envelope.model import Header
from bus.pki.identity import SigningIdentity


def sign_tree(root: etree._Element, identity: SigningIdentity) -> etree._Element:
    """Append a Signature to an unsigned envelope tree, signed by ``identity``; return the tree."""
    method = xmlsec.Transform.RSA_SHA256 if identity.is_rsa else xmlsec.Transform.ECDSA_SHA256
    signature = xmlsec.template.create(root, xmlsec.Transform.EXCL_C14N, method, ns="ds")
    root.append(signature)
    reference = xmlsec.template.add_reference(signature, xmlsec.Transform.SHA256, uri="")
    xmlsec.template.add_transform(reference, xmlsec.Transform.ENVELOPED)
    xmlsec.template.add_transform(reference, xmlsec.Transform.EXCL_C14N)
    key_info = xmlsec.template.ensure_key_info(signature)
    xmlsec.template.x509_data_add_certificate(xmlsec.template.add_x509_data(key_info))
    context = xmlsec.SignatureContext()
    context.key = identity.xmlsec_key
    context.sign(signature)
    return root


def sign_envelope(header: Header, payload: etree._Element, identity: SigningIdentity) -> bytes:
    """Build, sign and serialise an envelope. ``header.client`` must be the signer."""
    if header.client != identity.participant:
        raise ValueError(f"{identity.participant} cannot sign a message whose client is {header.client}")
    return etree.tostring(sign_tree(build_envelope(header, payload), identity), encoding="UTF-8")
