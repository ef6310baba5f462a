"""The signed catalogue: the envelope's signature profile, with the bus CA certificate as signer."""

from __future__ import annotations

import pytest
from cryptography import x509

from bus.faults import Fault, FaultCode
from bus.ids import ParticipantId, ServiceId
from bus.pki.authority import CertificateAuthority, KeyAlgorithm
from bus.pki.home import BusHome
from bus.registry import Catalogue, Grant, Right, ServiceEntry, ServiceStyle, load_catalogue, sign_catalogue

SERVICE = ServiceId.parse("MA/GOV/CNSS/attestations/cnss.attestation/v1")
EXC_C14N_TRANSFORM = b'<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'


def _home(tmp_path, name: str, algorithm: KeyAlgorithm) -> BusHome:
    home = BusHome.at(tmp_path / name)
    CertificateAuthority.init(home, algorithm=algorithm)
    return home


def _ca(home: BusHome) -> x509.Certificate:
    return x509.load_pem_x509_certificate(home.ca_cert.read_bytes())


@pytest.fixture(params=list(KeyAlgorithm))
def signed(request, tmp_path) -> tuple[BusHome, Catalogue, bytes]:
    home = _home(tmp_path, "bus", request.param)
    catalogue = (
        Catalogue("MA")
        .with_service(
            ServiceEntry(SERVICE, ServiceStyle.REQUEST_REPLY, "cnss_attestation.xsd", "good standing")
        )
        .with_grant(Grant(ParticipantId.parse("MA/GOV/MEF/tresorerie"), SERVICE, Right.CALL))
    )
    return home, catalogue, sign_catalogue(catalogue, home.ca_key.read_bytes(), home.ca_cert.read_bytes())


def test_a_signed_catalogue_reads_back_equal(signed):
    home, catalogue, data = signed
    assert load_catalogue(data, _ca(home)) == catalogue


def _refusal(data: bytes, ca: x509.Certificate) -> str:
    with pytest.raises(Fault) as refused:
        load_catalogue(data, ca)
    assert refused.value.code is FaultCode.CATALOGUE_INVALID
    return refused.value.reason


def test_an_edited_grant_is_refused(signed):
    home, _, data = signed
    assert _refusal(data.replace(b'right="call"', b'right="subscribe"'), _ca(home)).startswith(
        "Client.InvalidSignature"
    )


def test_a_signature_outside_the_profile_is_refused(signed):
    home, _, data = signed
    assert EXC_C14N_TRANSFORM in data
    assert _refusal(data.replace(EXC_C14N_TRANSFORM, b""), _ca(home)).startswith("Client.InvalidReference")


def test_a_catalogue_signed_by_another_ca_is_refused(signed, tmp_path):
    _, _, data = signed
    other = _home(tmp_path, "other", KeyAlgorithm.EC)
    assert _refusal(data, _ca(other)).startswith("Client.UntrustedCertificate")


def test_a_catalogue_signed_before_schema_digests_loads_without_them(tmp_path):
    home = _home(tmp_path, "old", KeyAlgorithm.EC)
    old = Catalogue("MA").with_service(
        ServiceEntry(SERVICE, ServiceStyle.REQUEST_REPLY, "cnss_attestation.xsd")
    )
    data = sign_catalogue(old, home.ca_key.read_bytes(), home.ca_cert.read_bytes())
    assert b"schemaDigest" not in data
    assert load_catalogue(data, _ca(home)).service(SERVICE).digest == ""


def test_a_schema_digest_that_is_not_sha256_hex_is_refused(tmp_path):
    home = _home(tmp_path, "bad", KeyAlgorithm.EC)
    entry = ServiceEntry(SERVICE, ServiceStyle.REQUEST_REPLY, "cnss_attestation.xsd", digest="ABC")
    data = sign_catalogue(
        Catalogue("MA").with_service(entry), home.ca_key.read_bytes(), home.ca_cert.read_bytes()
    )
    assert "schemaDigest" in _refusal(data, _ca(home))
