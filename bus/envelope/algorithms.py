"""The XML-DSig algorithms govbus signs with and accepts. Nothing else verifies: no SHA-1, no HMAC."""

from __future__ import annotations

import xmlsec

DSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

ALLOWED_SIGNATURE_METHODS: frozenset[str] = frozenset(
    {
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
    }
)
ALLOWED_DIGEST_METHODS: frozenset[str] = frozenset(
    {
        "http://www.w3.org/2001/04/xmlenc#sha256",
        "http://www.w3.org/2001/04/xmldsig-more#sha384",
        "http://www.w3.org/2001/04/xmlenc#sha512",
    }
)
REQUIRED_TRANSFORMS: tuple[str, ...] = (ENVELOPED, EXC_C14N)

# The same policy handed to libxmlsec, so it refuses anything else even if a check above were missed.
XMLSEC_SIGNATURE_TRANSFORMS = (
    xmlsec.constants.TransformExclC14N,
    xmlsec.constants.TransformEcdsaSha256,
    xmlsec.constants.TransformEcdsaSha384,
    xmlsec.constants.TransformEcdsaSha512,
    xmlsec.constants.TransformRsaSha256,
    xmlsec.constants.TransformRsaSha384,
    xmlsec.constants.TransformRsaSha512,
)
XMLSEC_REFERENCE_TRANSFORMS = (
    xmlsec.constants.TransformEnveloped,
    xmlsec.constants.TransformExclC14N,
    xmlsec.constants.TransformSha256,
    xmlsec.constants.TransformSha384,
    xmlsec.constants.TransformSha512,
)
XMLSEC_TRANSFORM_BY_URI = {
    transform.href: transform for transform in XMLSEC_SIGNATURE_TRANSFORMS + XMLSEC_REFERENCE_TRANSFORMS
}
