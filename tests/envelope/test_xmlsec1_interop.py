"""Interoperability with the independent ``xmlsec1`` command-line tool (Debian package xmlsec1).

govbus envelopes verify with ``xmlsec1 --verify``; envelopes that ``xmlsec1 --sign`` makes from a
hand-written template verify with govbus. The tool must be installed (``./dev`` installs it).
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from datetime import timedelta

import pytest

from bus.envelope.model import format_timestamp, utc_now
from bus.faults import FaultCode
from tests.helpers.envelopes import SERVICE, fault_of, signed
from tests.helpers.pki import CLIENT, make_ca, pem_cert

XMLSEC1 = shutil.which("xmlsec1")

TEMPLATE = """<Envelope xmlns="urn:govbus:envelope:1">
  <Header>
    <id>{id}</id>
    <kind>request</kind>
    <client>{client}</client>
    <service>{service}</service>
    <purpose>interoperability</purpose>
    <issued>{issued}</issued>
    <expires>{expires}</expires>
    <protocolVersion>1.0</protocolVersion>
  </Header>
  <Body>
    <a:AttestationRequest xmlns:a="urn:test:cnss:attestation:1"><a:ice>001525987000088</a:ice></a:AttestationRequest>
  </Body>
  <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
    <ds:SignedInfo>
      <ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
      <ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#{method}"/>
      <ds:Reference URI="">
        <ds:Transforms>
          <ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
          <ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
        </ds:Transforms>
        <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
        <ds:DigestValue/>
      </ds:Reference>
    </ds:SignedInfo>
    <ds:SignatureValue/>
    <ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo>
  </ds:Signature>
</Envelope>
"""


def _xmlsec1(*args: str) -> subprocess.CompletedProcess[str]:
    assert XMLSEC1 is not None, "xmlsec1 is not installed: run ./dev (or apt-get install -y xmlsec1)"
    return subprocess.run([XMLSEC1, *args], capture_output=True, text=True, timeout=60, check=False)


def _verify_command(ca_pem, document) -> list[str]:
    return [
        "--verify",
        "--trusted-pem",
        str(ca_pem),
        "--enabled-reference-uris",
        "empty",
        "--enabled-key-data",
        "x509",
        str(document),
    ]


def test_xmlsec1_is_installed():
    assert _xmlsec1("--version").stdout.startswith("xmlsec1 ")


def test_govbus_envelope_verifies_with_xmlsec1(pki, tmp_path):
    document = tmp_path / "envelope.xml"
    document.write_bytes(signed(pki.identity(CLIENT)))
    result = _xmlsec1(*_verify_command(pki.home.ca_cert, document))
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout + result.stderr


def test_xmlsec1_refuses_a_tampered_govbus_envelope(pki, tmp_path):
    document = tmp_path / "envelope.xml"
    document.write_bytes(signed(pki.identity(CLIENT)).replace(b"Atlas", b"Atlaz"))
    assert _xmlsec1(*_verify_command(pki.home.ca_cert, document)).returncode != 0


def test_xmlsec1_refuses_a_govbus_envelope_from_another_ca(pki, tmp_path):
    document = tmp_path / "envelope.xml"
    document.write_bytes(signed(pki.identity(CLIENT)))
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_bytes(pem_cert(make_ca(pki.algorithm)[1]))
    assert _xmlsec1(*_verify_command(other_ca, document)).returncode != 0


def _xmlsec1_signed(pki, tmp_path, *, client: str = CLIENT) -> bytes:
    identity = pki.identity(client)
    issued = utc_now()
    template = tmp_path / "template.xml"
    template.write_text(
        TEMPLATE.format(
            id=uuid.uuid4(),
            client=client,
            service=SERVICE,
            issued=format_timestamp(issued),
            expires=format_timestamp(issued + timedelta(minutes=1)),
            method="rsa-sha256" if identity.is_rsa else "ecdsa-sha256",
        )
    )
    output = tmp_path / "signed.xml"
    key = pki.home.participant_key(identity.participant)
    cert = pki.home.participant_cert(identity.participant)
    result = _xmlsec1("--sign", "--privkey-pem", f"{key},{cert}", "--output", str(output), str(template))
    assert result.returncode == 0, result.stderr
    return output.read_bytes()


def test_xmlsec1_signed_envelope_verifies_with_govbus(pki, tmp_path):
    data = _xmlsec1_signed(pki, tmp_path)
    assert data.startswith(b"<?xml")
    verified = pki.verifier().verify(data)
    assert str(verified.header.client) == CLIENT
    assert verified.header.purpose == "interoperability"
    assert verified.signer.participant == pki.identity(CLIENT).participant


def test_xmlsec1_signed_envelope_is_still_checked_by_govbus(pki, tmp_path):
    data = _xmlsec1_signed(pki, tmp_path)
    assert (
        fault_of(pki.verifier(), data.replace(b"001525987000088", b"001525987000089"))
        is FaultCode.INVALID_SIGNATURE
    )
    tampered = data.replace(
        b'xml-exc-c14n#"/>\n      <ds:SignatureMethod', b'xml-exc-c14n#"/>\n<ds:SignatureMethod'
    )
    assert tampered != data
    assert fault_of(pki.verifier(), tampered) is FaultCode.INVALID_SIGNATURE


@pytest.mark.parametrize("flavour", ["govbus", "xmlsec1"])
def test_both_tools_agree_on_one_document(pki, tmp_path, flavour):
    data = signed(pki.identity(CLIENT)) if flavour == "govbus" else _xmlsec1_signed(pki, tmp_path)
    document = tmp_path / "doc.xml"
    document.write_bytes(data)
    assert _xmlsec1(*_verify_command(pki.home.ca_cert, document)).returncode == 0
    assert pki.verifier().verify(data)
