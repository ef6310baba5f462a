"""Only the allowed algorithms verify: no SHA-1 or MD5 digests, no RSA-SHA1/ECDSA-SHA1, no HMAC, exc-C14N only.

Each refused signature is made valid (``bare_verify``), so the algorithm rule is the only reason.
"""

from __future__ import annotations

import lxml.etree as etree
import pytest
import xmlsec

from bus.faults import FaultCode
from bus.pki.authority import KeyAlgorithm
from tests.helpers.envelopes import (
    DS,
    add_certificate,
    bare_verify,
    fault_of,
    private_key,
    sign_with_template,
    to_bytes,
    unsigned_tree,
)
from tests.helpers.pki import CLIENT

T = xmlsec.Transform


def _sign(pki, **options) -> bytes:
    identity = pki.identity(CLIENT)
    options.setdefault("method", T.RSA_SHA256 if identity.is_rsa else T.ECDSA_SHA256)
    root = unsigned_tree(identity)
    sign_with_template(root, private_key(identity), certificate_der=identity.certificate_der, **options)
    return to_bytes(root)


def _sha(pki, bits: int) -> object:
    prefix = "RSA" if pki.algorithm == "rsa" else "ECDSA"
    return getattr(T, f"{prefix}_SHA{bits}")


@pytest.mark.parametrize(
    "digest", [T.SHA1, T.MD5, T.SHA224, T.RIPEMD160], ids=["sha1", "md5", "sha224", "ripemd160"]
)
def test_weak_or_unlisted_digest(pki, digest):
    data = _sign(pki, digest=digest)
    assert bare_verify(data, pki.identity(CLIENT).certificate_der)
    assert fault_of(pki.verifier(), data) is FaultCode.DISALLOWED_ALGORITHM


@pytest.mark.parametrize("bits", [1, 224])
def test_weak_or_unlisted_signature_method(pki, bits):
    data = _sign(pki, method=_sha(pki, bits))
    assert bare_verify(data, pki.identity(CLIENT).certificate_der)
    assert fault_of(pki.verifier(), data) is FaultCode.DISALLOWED_ALGORITHM


def test_rsa_sha1(pki):
    identity = pki.forge_certificate(CLIENT, algorithm=KeyAlgorithm.RSA)
    root = unsigned_tree(identity)
    sign_with_template(
        root, private_key(identity), method=T.RSA_SHA1, certificate_der=identity.certificate_der
    )
    data = to_bytes(root)
    assert b"xmldsig#rsa-sha1" in data
    assert bare_verify(data, identity.certificate_der)
    assert fault_of(pki.verifier(), data) is FaultCode.DISALLOWED_ALGORITHM
    root = unsigned_tree(identity)
    sign_with_template(
        root, private_key(identity), method=T.RSA_SHA256, certificate_der=identity.certificate_der
    )
    assert pki.verifier().verify(to_bytes(root)).signer.participant == identity.participant


@pytest.mark.parametrize("method", [T.HMAC_SHA256, T.HMAC_SHA1], ids=["hmac-sha256", "hmac-sha1"])
def test_hmac_signature(pki, method):
    """An HMAC 'signature' with a key the attacker chose proves nothing about the certificate in KeyInfo."""
    identity = pki.identity(CLIENT)
    root = unsigned_tree(identity)
    key = xmlsec.Key.from_binary_data(xmlsec.KeyData.HMAC, b"attacker-chosen-secret")
    sign_with_template(root, key, method=method, certificate_der=identity.certificate_der)
    data = to_bytes(root)
    assert b"hmac-sha" in data
    assert fault_of(pki.verifier(), data) is FaultCode.DISALLOWED_ALGORITHM


def test_hmac_output_length_truncation(pki):
    identity = pki.identity(CLIENT)
    root = unsigned_tree(identity)
    key = xmlsec.Key.from_binary_data(xmlsec.KeyData.HMAC, b"attacker-chosen-secret")
    signature = sign_with_template(root, key, method=T.HMAC_SHA256, certificate_der=None)
    etree.SubElement(
        signature.find(f"{DS}SignedInfo/{DS}SignatureMethod"), DS + "HMACOutputLength"
    ).text = "8"
    add_certificate(signature, identity.certificate_der)
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.DISALLOWED_ALGORITHM


@pytest.mark.parametrize(
    "c14n",
    [T.C14N, T.C14N11, T.EXCL_C14N_COMMENTS, T.C14N_COMMENTS],
    ids=["c14n", "c14n11", "exc-comments", "comments"],
)
def test_signed_info_canonicalisation(pki, c14n):
    data = _sign(pki, c14n=c14n)
    assert bare_verify(data, pki.identity(CLIENT).certificate_der)
    assert fault_of(pki.verifier(), data) is FaultCode.DISALLOWED_ALGORITHM


def test_unknown_algorithm_uri(pki):
    data = _sign(pki).replace(b"xmldsig-more#", b"xmldsig-evil#", 1)
    assert fault_of(pki.verifier(), data) is FaultCode.DISALLOWED_ALGORITHM


@pytest.mark.parametrize("bits", [384, 512])
def test_stronger_allowed_algorithms_verify(pki, bits):
    data = _sign(pki, method=_sha(pki, bits), digest=getattr(T, f"SHA{bits}"))
    assert pki.verifier().verify(data).header.client == pki.identity(CLIENT).participant


def test_algorithm_for_the_wrong_key_type(pki):
    """An RSA method with an EC key (or the reverse) cannot verify."""
    data = _sign(pki)
    mine, other = (
        (b"rsa-sha256", b"ecdsa-sha256") if pki.algorithm == "rsa" else (b"ecdsa-sha256", b"rsa-sha256")
    )
    assert fault_of(pki.verifier(), data.replace(mine, other)) is FaultCode.INVALID_SIGNATURE
