"""XML signature wrapping and shape: one Signature, last; one Reference URI=""; only the two transforms.

Most variants are built so that the signature is still cryptographically valid (``bare_verify``): then
only govbus's shape rules can be what refuses them.
"""

from __future__ import annotations

import base64
import copy

import lxml.etree as etree
import pytest
import xmlsec

from bus.faults import FaultCode
from tests.helpers.envelopes import (
    DS,
    DS_NS,
    ENV,
    add_certificate,
    bare_verify,
    fault_of,
    header,
    parse,
    payload,
    private_key,
    sign_with_template,
    signed,
    to_bytes,
    unsigned_tree,
)
from tests.helpers.pki import CLIENT, PROVIDER

XSLT_NS = "http://www.w3.org/1999/XSL/Transform"


def _method(identity) -> object:
    return xmlsec.Transform.RSA_SHA256 if identity.is_rsa else xmlsec.Transform.ECDSA_SHA256


def _signed_tree(pki, participant: str = CLIENT) -> etree._Element:
    return parse(signed(pki.identity(participant)))


def _custom(pki, *, participant: str = CLIENT, root=None, **options) -> tuple[etree._Element, bytes]:
    """An envelope signed from a python-xmlsec template with ``options``; return (tree, certificate DER)."""
    identity = pki.identity(participant)
    root = root if root is not None else unsigned_tree(identity)
    options.setdefault("method", _method(identity))
    sign_with_template(root, private_key(identity), certificate_der=identity.certificate_der, **options)
    return root, identity.certificate_der


def test_custom_signing_helper_matches_govbus(pki):
    root, _ = _custom(pki)
    assert pki.verifier().verify(to_bytes(root)).header.client == pki.identity(CLIENT).participant


# Wrapping: the signed content moved, duplicated or surrounded.


def test_signed_envelope_inside_a_new_root(pki):
    original = _signed_tree(pki)
    wrapper = etree.Element("{urn:evil}Wrapper")
    wrapper.append(original)
    assert fault_of(pki.verifier(), to_bytes(wrapper)) is FaultCode.MALFORMED_MESSAGE


def test_signed_envelope_inside_an_attacker_envelope(pki):
    victim = pki.identity(CLIENT)
    attacker = unsigned_tree(victim, head=header(victim, purpose="attacker"))
    attacker.append(_signed_tree(pki))
    assert fault_of(pki.verifier(), to_bytes(attacker)) is FaultCode.SIGNATURE_PLACEMENT


def test_signature_moved_to_an_attacker_envelope_wrapping_the_signed_content(pki):
    """Classic XSW: attacker Header/Body, the original content hidden in a foreign element, its Signature last."""
    victim = pki.identity(CLIENT)
    original = _signed_tree(pki)
    signature = original[-1]
    attacker = unsigned_tree(victim, head=header(victim, purpose="attacker"))
    hide = etree.SubElement(attacker[1][0], "{urn:evil}hidden")
    hide.extend([original[0], original[1]])
    attacker.append(signature)
    assert fault_of(pki.verifier(), to_bytes(attacker)) is FaultCode.INVALID_SIGNATURE


def test_signed_envelope_hidden_in_the_payload(pki):
    victim = pki.identity(CLIENT)
    original = _signed_tree(pki)
    signature = original[-1]
    attacker = unsigned_tree(victim, head=header(victim, purpose="attacker"))
    etree.SubElement(attacker[1][0], "{urn:evil}hidden").append(original)
    attacker.append(signature)
    assert fault_of(pki.verifier(), to_bytes(attacker)) is FaultCode.SCHEMA_VIOLATION


def test_attacker_body_before_the_signed_one(pki):
    root = _signed_tree(pki)
    evil = etree.Element(ENV + "Body")
    evil.append(payload(ice="999999999999999"))
    root.insert(1, evil)
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.SCHEMA_VIOLATION


def test_second_header(pki):
    root = _signed_tree(pki)
    root.insert(0, copy.deepcopy(root[0]))
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.SCHEMA_VIOLATION


def test_signature_moved_into_body(pki):
    root = _signed_tree(pki)
    root[1].append(root[-1])
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.SIGNATURE_PLACEMENT


def test_signature_signed_inside_body(pki):
    """Even a valid enveloped signature whose parent is Body is refused: it must be Envelope's last child."""
    identity = pki.identity(CLIENT)
    root = unsigned_tree(identity)
    root, der = _custom(pki, root=root, parent=root[1])
    assert bare_verify(to_bytes(root), der)
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.SIGNATURE_PLACEMENT


def test_signature_moved_into_header(pki):
    root = _signed_tree(pki)
    root[0].append(root[-1])
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.SIGNATURE_PLACEMENT


def test_duplicated_signature(pki):
    root = _signed_tree(pki)
    root.append(copy.deepcopy(root[-1]))
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.SIGNATURE_PLACEMENT


def test_second_signature_by_another_participant(pki):
    root = _signed_tree(pki)
    _custom(pki, participant=PROVIDER, root=root)
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.SIGNATURE_PLACEMENT


def test_signature_not_last(pki):
    root = _signed_tree(pki)
    root.insert(1, root[-1])
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.SIGNATURE_PLACEMENT


def test_element_after_the_signature(pki):
    root = _signed_tree(pki)
    etree.SubElement(root, "{urn:evil}after").text = "x"
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.SIGNATURE_PLACEMENT


def test_unsigned_envelope(pki):
    root = unsigned_tree(pki.identity(CLIENT))
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.SIGNATURE_PLACEMENT


def test_a_signature_inside_the_payload(pki):
    identity = pki.identity(CLIENT)
    body = payload()
    body.append(copy.deepcopy(_signed_tree(pki)[-1]))
    data = signed(identity, body=body)
    assert fault_of(pki.verifier(), data) is FaultCode.SIGNATURE_PLACEMENT


def test_signature_wrong_namespace(pki):
    root = _signed_tree(pki)
    for element in root[-1].iter():
        element.tag = "{urn:not-dsig}" + etree.QName(element).localname
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.SIGNATURE_PLACEMENT


# Inside the Signature.


def test_extra_object_carrying_data(pki):
    root = _signed_tree(pki)
    obj = etree.SubElement(root[-1], DS + "Object")
    etree.SubElement(obj, "{urn:evil}order").text = "pay 1000000"
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.SIGNATURE_PLACEMENT


def test_signed_object_through_a_second_reference(pki):
    identity = pki.identity(CLIENT)
    root = unsigned_tree(identity)
    signature = xmlsec.template.create(root, xmlsec.Transform.EXCL_C14N, _method(identity), ns="ds")
    root.append(signature)
    ref = xmlsec.template.add_reference(signature, xmlsec.Transform.SHA256, uri="")
    xmlsec.template.add_transform(ref, xmlsec.Transform.ENVELOPED)
    xmlsec.template.add_transform(ref, xmlsec.Transform.EXCL_C14N)
    xmlsec.template.add_reference(signature, xmlsec.Transform.SHA256, uri="#obj")
    obj = etree.SubElement(signature, DS + "Object", Id="obj")
    etree.SubElement(obj, "{urn:evil}order").text = "pay 1000000"
    xmlsec.tree.add_ids(root, ["Id"])
    context = xmlsec.SignatureContext()
    context.key = private_key(identity)
    context.sign(signature)
    signature.remove(obj)
    add_certificate(signature, identity.certificate_der)
    signature.append(obj)
    data = to_bytes(root)
    assert bare_verify(data, identity.certificate_der, id_attributes=["Id"])
    assert fault_of(pki.verifier(), data) is FaultCode.SIGNATURE_PLACEMENT
    signature.remove(obj)
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.INVALID_REFERENCE


def test_reference_to_the_payload_only(pki):
    """URI="#p" signs only the payload: a valid signature, but the header would be unsigned."""
    identity = pki.identity(CLIENT)
    root = unsigned_tree(identity)
    root[1][0].set("Id", "p")
    root, der = _custom(
        pki, root=root, uris=("#p",), transforms=(xmlsec.Transform.EXCL_C14N,), id_attributes=["Id"]
    )
    data = to_bytes(root)
    assert bare_verify(data, der, id_attributes=["Id"])
    assert fault_of(pki.verifier(), data) is FaultCode.INVALID_REFERENCE


@pytest.mark.parametrize(
    "uri", ["#x", "#xpointer(/)", "#xpointer(id('x'))", "http://evil.example/doc.xml", None]
)
def test_reference_uri_must_be_empty(pki, uri):
    root = _signed_tree(pki)
    reference = root[-1].find(f"{DS}SignedInfo/{DS}Reference")
    if uri is None:
        del reference.attrib["URI"]
    else:
        reference.set("URI", uri)
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.INVALID_REFERENCE


def test_second_reference(pki):
    root, der = _custom(pki, uris=("", ""))
    data = to_bytes(root)
    assert bare_verify(data, der)
    assert fault_of(pki.verifier(), data) is FaultCode.INVALID_REFERENCE


def test_second_reference_as_manifest_like_nesting(pki):
    root = _signed_tree(pki)
    signed_info = root[-1][0]
    signed_info.append(copy.deepcopy(signed_info[-1]))
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.INVALID_REFERENCE


def test_xpath_transform(pki):
    identity = pki.identity(CLIENT)
    root = unsigned_tree(identity)
    signature = xmlsec.template.create(root, xmlsec.Transform.EXCL_C14N, _method(identity), ns="ds")
    root.append(signature)
    ref = xmlsec.template.add_reference(signature, xmlsec.Transform.SHA256, uri="")
    xmlsec.template.add_transform(ref, xmlsec.Transform.ENVELOPED)
    xpath = xmlsec.template.add_transform(ref, xmlsec.Transform.XPATH)
    etree.SubElement(xpath, DS + "XPath").text = "not(ancestor-or-self::*[local-name()='Header'])"
    xmlsec.template.add_transform(ref, xmlsec.Transform.EXCL_C14N)
    context = xmlsec.SignatureContext()
    context.key = private_key(identity)
    context.sign(signature)
    add_certificate(signature, identity.certificate_der)
    data = to_bytes(root)
    assert bare_verify(data, identity.certificate_der)
    assert fault_of(pki.verifier(), data) is FaultCode.INVALID_REFERENCE
    tampered = data.replace(b"<purpose>public-procurement</purpose>", b"<purpose>anything-else</purpose>")
    assert bare_verify(tampered, identity.certificate_der), "the XPath transform leaves the header unsigned"


def test_xslt_transform(pki):
    """An XSLT transform that maps any document to a constant: a valid signature over nothing."""
    identity = pki.identity(CLIENT)
    root = unsigned_tree(identity)
    signature = xmlsec.template.create(root, xmlsec.Transform.EXCL_C14N, _method(identity), ns="ds")
    root.append(signature)
    ref = xmlsec.template.add_reference(signature, xmlsec.Transform.SHA256, uri="")
    xmlsec.template.add_transform(ref, xmlsec.Transform.ENVELOPED)
    xslt = xmlsec.template.add_transform(ref, xmlsec.Transform.XSLT)
    stylesheet = etree.SubElement(xslt, f"{{{XSLT_NS}}}stylesheet", version="1.0")
    template = etree.SubElement(stylesheet, f"{{{XSLT_NS}}}template", match="/")
    etree.SubElement(template, f"{{{XSLT_NS}}}text").text = "constant"
    context = xmlsec.SignatureContext()
    context.key = private_key(identity)
    context.sign(signature)
    add_certificate(signature, identity.certificate_der)
    data = to_bytes(root)
    tampered = data.replace(b"Atlas Travaux", b"Evil Holdings")
    assert bare_verify(data, identity.certificate_der)
    assert bare_verify(tampered, identity.certificate_der), "the XSLT output ignores the document"
    assert fault_of(pki.verifier(), data) is FaultCode.INVALID_REFERENCE
    assert fault_of(pki.verifier(), tampered) is FaultCode.INVALID_REFERENCE


@pytest.mark.parametrize(
    "transforms",
    [
        (xmlsec.Transform.ENVELOPED,),
        (xmlsec.Transform.ENVELOPED, xmlsec.Transform.C14N),
        (xmlsec.Transform.ENVELOPED, xmlsec.Transform.EXCL_C14N_COMMENTS),
        (xmlsec.Transform.ENVELOPED, xmlsec.Transform.EXCL_C14N, xmlsec.Transform.EXCL_C14N),
    ],
    ids=["enveloped-only", "inclusive-c14n", "with-comments", "repeated"],
)
def test_only_enveloped_then_exclusive_c14n(pki, transforms):
    root, der = _custom(pki, transforms=transforms)
    data = to_bytes(root)
    assert bare_verify(data, der)
    assert fault_of(pki.verifier(), data) is FaultCode.INVALID_REFERENCE


def test_transforms_in_the_other_order(pki):
    root = _signed_tree(pki)
    transforms = root[-1].find(f"{DS}SignedInfo/{DS}Reference/{DS}Transforms")
    transforms.append(transforms[0])
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.INVALID_REFERENCE


def test_inclusive_namespaces_prefix_list(pki):
    identity = pki.identity(CLIENT)
    root = unsigned_tree(identity)
    signature = xmlsec.template.create(root, xmlsec.Transform.EXCL_C14N, _method(identity), ns="ds")
    root.append(signature)
    ref = xmlsec.template.add_reference(signature, xmlsec.Transform.SHA256, uri="")
    xmlsec.template.add_transform(ref, xmlsec.Transform.ENVELOPED)
    c14n = xmlsec.template.add_transform(ref, xmlsec.Transform.EXCL_C14N)
    xmlsec.template.transform_add_c14n_inclusive_namespaces(c14n, ["a"])
    context = xmlsec.SignatureContext()
    context.key = private_key(identity)
    context.sign(signature)
    add_certificate(signature, identity.certificate_der)
    data = to_bytes(root)
    assert bare_verify(data, identity.certificate_der)
    assert fault_of(pki.verifier(), data) is FaultCode.INVALID_REFERENCE


def test_signed_info_with_an_extra_element(pki):
    root = _signed_tree(pki)
    etree.SubElement(root[-1][0], DS + "Extra")
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.INVALID_REFERENCE


def test_signature_parts_out_of_order(pki):
    root = _signed_tree(pki)
    signature = root[-1]
    signature.insert(0, signature[1])
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.SIGNATURE_PLACEMENT


# KeyInfo: exactly one certificate, the signer's.


def test_missing_key_info(pki):
    root = _signed_tree(pki)
    root[-1].remove(root[-1][-1])
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.SIGNATURE_PLACEMENT


def test_two_certificates(pki):
    root = _signed_tree(pki)
    data_element = root[-1][-1][0]
    data_element.append(copy.deepcopy(data_element[0]))
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.UNTRUSTED_CERTIFICATE


def test_key_value_instead_of_certificate(pki):
    root = _signed_tree(pki)
    key_info = root[-1][-1]
    key_info.remove(key_info[0])
    etree.SubElement(key_info, DS + "KeyValue")
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.UNTRUSTED_CERTIFICATE


@pytest.mark.parametrize("text", ["not base64 !!!", "", "AAAA"])
def test_certificate_is_not_a_certificate(pki, text):
    root = _signed_tree(pki)
    root[-1].find(f"{DS}KeyInfo/{DS}X509Data/{DS}X509Certificate").text = text
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.UNTRUSTED_CERTIFICATE


def test_certificate_of_another_participant(pki):
    """Another participant's genuine certificate in KeyInfo: the signature does not verify with its key."""
    root = _signed_tree(pki)
    other = pki.identity(PROVIDER).certificate_der
    root[-1].find(f"{DS}KeyInfo/{DS}X509Data/{DS}X509Certificate").text = base64.b64encode(other).decode()
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.INVALID_SIGNATURE


def test_tampered_signature_value(pki):
    root = _signed_tree(pki)
    value = root[-1].find(f"{DS}SignatureValue")
    text = value.text.strip()
    value.text = ("B" if text[0] != "B" else "C") + text[1:]
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.INVALID_SIGNATURE


def test_tampered_digest_value(pki):
    root = _signed_tree(pki)
    digest = root[-1].find(f"{DS}SignedInfo/{DS}Reference/{DS}DigestValue")
    digest.text = ("B" if digest.text[0] != "B" else "C") + digest.text[1:]
    assert fault_of(pki.verifier(), to_bytes(root)) is FaultCode.INVALID_SIGNATURE


def test_renaming_the_ds_prefix_breaks_the_signature(pki):
    """Exclusive C14N keeps prefixes, so SignedInfo with another prefix is different signed data."""
    data = signed(pki.identity(CLIENT))
    renamed = data.replace(b"ds:", b"sig:").replace(b"xmlns:ds=", b"xmlns:sig=")
    assert b"<sig:Signature" in renamed and DS_NS.encode() in renamed
    assert fault_of(pki.verifier(), renamed) is FaultCode.INVALID_SIGNATURE
