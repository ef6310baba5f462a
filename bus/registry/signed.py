"""The catalogue on the wire and on disk: an XML document signed by the bus CA.

Signed like an envelope (one enveloped XML-DSig Signature, last child, Reference URI="", exc-C14N),
with the CA key itself, since the catalogue's authority is the authority that runs the PKI. Participants
load it from ``HOME/ca/catalogue.xml`` and refuse it when the signature does not verify with the CA
certificate (``Server.CatalogueInvalid``).

Each ``service`` element carries ``schemaDigest``, the SHA-256 hex of its XSD's bytes. A catalogue signed
before digests were recorded has none: it still loads, its entries' ``digest`` is empty, and the next
``govbus registry add-service`` or ``apply`` of that service records it.
"""

from __future__ import annotations

import lxml.etree as etree
import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bus.envelope.model import format_timestamp, utc_now
from bus.envelope.signer import append_signature
from bus.envelope.verifier import check_signature_shape, verify_signature_value
from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId, ServiceId
from bus.registry.catalogue import Catalogue, Grant, Right, ServiceEntry, ServiceStyle
from bus.registry.schema import is_digest
from bus.xml import parse_untrusted

NAMESPACE = "urn:govbus:catalogue:1"
_NS = "{" + NAMESPACE + "}"


def catalogue_to_xml(catalogue: Catalogue) -> etree._Element:
    """The unsigned catalogue document, in a stable order."""
    root = etree.Element(
        _NS + "Catalogue",
        nsmap={None: NAMESPACE},  # type: ignore[dict-item]  # lxml-stubs omit the default namespace
        instance=catalogue.instance,
        version=str(catalogue.version),
        issued=format_timestamp(utc_now()),
    )
    for participant, name in sorted(catalogue.participants.items()):
        etree.SubElement(root, _NS + "participant", id=str(participant), name=name)
    for service, entry in sorted(catalogue.services.items()):
        node = etree.SubElement(
            root, _NS + "service", id=str(service), style=str(entry.style), schema=entry.schema
        )
        if entry.digest:
            node.set("schemaDigest", entry.digest)
        if entry.personal:
            node.set("personal", "true")
        if entry.confidential:
            node.set("confidential", "true")
        if entry.description:
            node.text = entry.description
    for grant in sorted(catalogue.grants):
        etree.SubElement(
            root, _NS + "grant", client=str(grant.client), service=str(grant.service), right=str(grant.right)
        )
    return root


def catalogue_from_xml(root: etree._Element) -> Catalogue:
    """Read a (verified) catalogue document."""
    try:
        catalogue = Catalogue(instance=root.get("instance", ""), version=int(root.get("version", "0")))
        for node in root.iterchildren(_NS + "participant"):
            catalogue = catalogue.with_participant(
                ParticipantId.parse(node.get("id", "")), node.get("name", "")
            )
        for node in root.iterchildren(_NS + "service"):
            digest = node.get("schemaDigest", "")
            if digest and not is_digest(digest):
                raise ValueError(f"schemaDigest of {node.get('id')} is not a SHA-256 hex digest")
            catalogue = catalogue.with_service(
                ServiceEntry(
                    service=ServiceId.parse(node.get("id", "")),
                    style=ServiceStyle(node.get("style", "")),
                    schema=node.get("schema", ""),
                    description="".join(str(text) for text in node.itertext()),
                    digest=digest,
                    personal=node.get("personal") == "true",
                    confidential=node.get("confidential") == "true",
                )
            )
        for node in root.iterchildren(_NS + "grant"):
            catalogue = catalogue.with_grant(
                Grant(
                    ParticipantId.parse(node.get("client", "")),
                    ServiceId.parse(node.get("service", "")),
                    Right(node.get("right", "")),
                )
            )
    except (Fault, ValueError) as error:
        raise Fault(FaultCode.CATALOGUE_INVALID, f"catalogue content: {error}") from None
    return catalogue


def sign_catalogue(catalogue: Catalogue, ca_key_pem: bytes, ca_cert_pem: bytes) -> bytes:
    """Serialise and sign ``catalogue`` with the CA key (the envelope's signature profile)."""
    certificate = x509.load_pem_x509_certificate(ca_cert_pem)
    key = xmlsec.Key.from_memory(ca_key_pem, xmlsec.constants.KeyDataFormatPem)
    root = append_signature(
        catalogue_to_xml(catalogue),
        key,
        certificate.public_bytes(serialization.Encoding.DER),
        is_rsa=isinstance(certificate.public_key(), rsa.RSAPublicKey),
    )
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)


def load_catalogue(data: bytes, ca_certificate: x509.Certificate) -> Catalogue:
    """Verify a signed catalogue against the CA certificate and read it; ``Server.CatalogueInvalid`` if not.

    The signature must follow the envelope's profile (one Signature, last, covering the whole document,
    allowed algorithms only) and carry the bus CA certificate itself.
    """
    try:
        root = parse_untrusted(data)
        if root.tag != _NS + "Catalogue":
            raise Fault(FaultCode.MALFORMED_MESSAGE, f"root element is {root.tag}, not a govbus Catalogue")
        signature, certificate_der, method, digest = check_signature_shape(root)
        ca_der = ca_certificate.public_bytes(serialization.Encoding.DER)
        if certificate_der != ca_der:
            raise Fault(FaultCode.UNTRUSTED_CERTIFICATE, "the catalogue is not signed by the bus CA")
        key = xmlsec.Key.from_memory(ca_der, xmlsec.constants.KeyDataFormatCertDer)
        verify_signature_value(signature, key, method, digest)
    except Fault as fault:
        raise Fault(FaultCode.CATALOGUE_INVALID, f"{fault.code}: {fault.reason}") from None
    root.remove(signature)
    return catalogue_from_xml(root)
