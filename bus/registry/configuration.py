"""The signed global configuration: everything a participant needs from the authority, in one document.

As X-Road's global configuration: the bus authority publishes one document, signed with the CA key in
the envelope's signature profile, versioned and with an expiry::

    <Configuration xmlns="urn:govbus:configuration:1" instance="MA" version="7"
                   issued="2026-12-03T10:00:00.000Z" expires="2026-12-10T10:00:00.000Z">
      <caCertificate>base64 DER</caCertificate>
      <crl>base64 DER</crl>
      <catalogue>base64 of the signed catalogue document</catalogue>
      <broker>amqps://bus.example:5671/</broker>                   (any number)
      <encryptionCertificate participant="ID">base64 DER</encryptionCertificate>   (any number)
      <ds:Signature/>
    </Configuration>

A participant accepts it (``load_configuration``) only when it is signed by the CA certificate it was
enrolled with (its trust anchor, ``ca/ca-cert.pem``, the one file copied by hand), carries that same CA
certificate, has not expired (``Server.ConfigurationExpired``), and is not older than the version it
already has (``Server.ConfigurationRollback``); anything else is ``Server.ConfigurationInvalid``.
``install`` then writes its parts where the trust store, the catalogue view and the encryption keyring
read them, and keeps the document itself as ``ca/configuration.xml``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import lxml.etree as etree
import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bus.envelope.model import format_timestamp, parse_timestamp, utc_now
from bus.envelope.signer import append_signature
from bus.envelope.verifier import check_signature_shape, verify_signature_value
from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId
from bus.pki.home import BusHome, write_public
from bus.registry.signed import load_catalogue
from bus.xml import parse_untrusted, whole_text

NAMESPACE = "urn:govbus:configuration:1"
_NS = "{" + NAMESPACE + "}"
DEFAULT_VALIDITY = timedelta(days=7)


def configuration_path(home: BusHome) -> Path:
    return home.ca_dir / "configuration.xml"


@dataclass(frozen=True, slots=True)
class GlobalConfiguration:
    """A verified configuration: its version, validity and parts (DER and document bytes)."""

    instance: str
    version: int
    issued: datetime
    expires: datetime
    ca_certificate: bytes
    crl: bytes
    catalogue: bytes
    brokers: tuple[str, ...] = ()
    encryption_certificates: dict[str, bytes] = field(default_factory=dict)


def build_configuration(
    home: BusHome, *, version: int, brokers: tuple[str, ...] = (), validity: timedelta = DEFAULT_VALIDITY
) -> bytes:
    """Sign the authority's current CA certificate, CRL, published catalogue and participants'
    encryption certificates as configuration ``version``, valid for ``validity``."""
    ca_pem = home.ca_cert.read_bytes()
    ca = x509.load_pem_x509_certificate(ca_pem)
    crl = x509.load_pem_x509_crl(home.crl.read_bytes())
    catalogue = (home.ca_dir / "catalogue.xml").read_bytes()
    issued = utc_now()
    root = etree.Element(
        _NS + "Configuration",
        nsmap={None: NAMESPACE},  # type: ignore[dict-item]  # lxml-stubs omit the default namespace
        instance=load_catalogue(catalogue, ca).instance,
        version=str(version),
        issued=format_timestamp(issued),
        expires=format_timestamp(issued + validity),
    )
    etree.SubElement(root, _NS + "caCertificate").text = _b64(ca.public_bytes(serialization.Encoding.DER))
    etree.SubElement(root, _NS + "crl").text = _b64(crl.public_bytes(serialization.Encoding.DER))
    etree.SubElement(root, _NS + "catalogue").text = _b64(catalogue)
    for broker in brokers:
        etree.SubElement(root, _NS + "broker").text = broker
    participants = home.root / "participants"
    for directory in sorted(participants.iterdir()) if participants.is_dir() else []:
        cert = directory / "enc-cert.pem"
        if cert.exists():
            der = x509.load_pem_x509_certificate(cert.read_bytes()).public_bytes(serialization.Encoding.DER)
            node = etree.SubElement(
                root, _NS + "encryptionCertificate", participant=directory.name.replace("+", "/")
            )
            node.text = _b64(der)
    key = xmlsec.Key.from_memory(home.ca_key.read_bytes(), xmlsec.constants.KeyDataFormatPem)
    signed = append_signature(
        root,
        key,
        ca.public_bytes(serialization.Encoding.DER),
        is_rsa=isinstance(ca.public_key(), rsa.RSAPublicKey),
    )
    return etree.tostring(signed, encoding="UTF-8", xml_declaration=True)


def load_configuration(
    data: bytes, anchor: x509.Certificate, *, have: int | None = None, now: datetime | None = None
) -> GlobalConfiguration:
    """Verify and read a configuration against the trust anchor; ``have`` is the version already held."""
    configuration = verify_configuration(data, anchor)
    if configuration.expires <= (now or utc_now()):
        raise Fault(
            FaultCode.CONFIGURATION_EXPIRED,
            f"configuration version {configuration.version} expired at {format_timestamp(configuration.expires)}: "
            "the authority must publish a fresh one (govbus registry publish-config)",
        )
    if have is not None and configuration.version < have:
        raise Fault(
            FaultCode.CONFIGURATION_ROLLBACK,
            f"configuration version {configuration.version} is older than version {have} already installed",
        )
    return configuration


def verify_configuration(data: bytes, anchor: x509.Certificate) -> GlobalConfiguration:
    """A configuration signed by ``anchor`` and well formed (expired or not); ``Server.ConfigurationInvalid``."""
    anchor_der = anchor.public_bytes(serialization.Encoding.DER)
    try:
        root = parse_untrusted(data)
        if root.tag != _NS + "Configuration":
            raise Fault(
                FaultCode.MALFORMED_MESSAGE, f"root element is {root.tag}, not a govbus Configuration"
            )
        signature, certificate_der, method, digest = check_signature_shape(root)
        if certificate_der != anchor_der:
            raise Fault(
                FaultCode.UNTRUSTED_CERTIFICATE, "it is not signed by the bus CA this participant trusts"
            )
        verify_signature_value(
            signature,
            xmlsec.Key.from_memory(anchor_der, xmlsec.constants.KeyDataFormatCertDer),
            method,
            digest,
        )
        root.remove(signature)
        configuration = _read(root)
        if configuration.ca_certificate != anchor_der:
            raise Fault(
                FaultCode.UNTRUSTED_CERTIFICATE, "it names another CA certificate than the trust anchor"
            )
        load_catalogue(configuration.catalogue, anchor)
        crl = x509.load_der_x509_crl(configuration.crl)
        if not crl.is_signature_valid(anchor.public_key()):  # type: ignore[arg-type]
            raise Fault(FaultCode.UNTRUSTED_CERTIFICATE, "its CRL is not signed by the bus CA")
    except Fault as fault:
        raise Fault(
            FaultCode.CONFIGURATION_INVALID, f"configuration refused: {fault.code}: {fault.reason}"
        ) from None
    except (ValueError, KeyError, binascii.Error) as error:
        raise Fault(FaultCode.CONFIGURATION_INVALID, f"configuration refused: {error}") from None
    return configuration


def publish_configuration(
    home: BusHome, *, brokers: tuple[str, ...] = (), validity: timedelta = DEFAULT_VALIDITY
) -> tuple[Path, int]:
    """Sign the next version of the authority's configuration into ``ca/configuration.xml``."""
    anchor = x509.load_pem_x509_certificate(home.ca_cert.read_bytes())
    version = (installed_version(home, anchor) or 0) + 1
    path = configuration_path(home)
    write_public(path, build_configuration(home, version=version, brokers=brokers, validity=validity))
    return path, version


def installed_version(home: BusHome, anchor: x509.Certificate) -> int | None:
    """The version of the configuration installed in ``home`` (verified, expired or not), or None."""
    path = configuration_path(home)
    if not path.exists():
        return None
    try:
        return verify_configuration(path.read_bytes(), anchor).version
    except Fault:
        return None


def install(home: BusHome, data: bytes, *, now: datetime | None = None) -> GlobalConfiguration:
    """Verify ``data`` against ``home``'s trust anchor and the version it holds, then install its parts:
    the CRL, the signed catalogue, the encryption certificates, and the document itself."""
    anchor = x509.load_pem_x509_certificate(home.ca_cert.read_bytes())
    configuration = load_configuration(data, anchor, have=installed_version(home, anchor), now=now)
    crl = x509.load_der_x509_crl(configuration.crl)
    write_public(home.crl, crl.public_bytes(serialization.Encoding.PEM))
    write_public(home.ca_dir / "catalogue.xml", configuration.catalogue)
    for participant, der in configuration.encryption_certificates.items():
        pem = x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
        write_public(home.participant_encryption_cert(ParticipantId.parse(participant)), pem)
    write_public(configuration_path(home), data)
    return configuration


def _read(root: etree._Element) -> GlobalConfiguration:
    def one(name: str) -> bytes:
        nodes = root.findall(_NS + name)
        if len(nodes) != 1:
            raise ValueError(f"expected one {name}, found {len(nodes)}")
        return base64.b64decode(whole_text(nodes[0]) or "", validate=False)

    certificates = {}
    for node in root.iterchildren(_NS + "encryptionCertificate"):
        participant = str(ParticipantId.parse(node.get("participant", "")))
        certificates[participant] = base64.b64decode(whole_text(node) or "")
    version = int(root.get("version", ""))
    if version < 1:
        raise ValueError("version must be a positive integer")
    return GlobalConfiguration(
        instance=root.get("instance", ""),
        version=version,
        issued=parse_timestamp(root.get("issued", "")),
        expires=parse_timestamp(root.get("expires", "")),
        ca_certificate=one("caCertificate"),
        crl=one("crl"),
        catalogue=one("catalogue"),
        brokers=tuple((whole_text(n) or "").strip() for n in root.iterchildren(_NS + "broker")),
        encryption_certificates=certificates,
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
