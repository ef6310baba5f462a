"""Hostile bytes: refused before anything else, with the right fault, never reading a file or the network."""

from __future__ import annotations

import lxml.etree as etree
import pytest

from bus.envelope import VerificationPolicy
from bus.faults import Fault, FaultCode
from bus.xml import _hardened_parser, parse_untrusted, whole_text
from tests.helpers.envelopes import PAYLOAD_NS, fault_of, payload, signed
from tests.helpers.pki import CLIENT

SECRET = "govbus-secret-7f3a"


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text(SECRET)
    return path


def _parse_code(data) -> FaultCode:
    with pytest.raises(Fault) as caught:
        parse_untrusted(data)
    return caught.value.code


def _with_doctype(envelope: bytes, doctype: str) -> bytes:
    return doctype.encode() + envelope


def test_oversized_input_is_refused_before_parsing(pki):
    data = signed(pki.identity(CLIENT))
    verifier = pki.verifier(policy=VerificationPolicy(max_bytes=len(data) - 1))
    assert fault_of(verifier, data) is FaultCode.OVERSIZED_MESSAGE
    assert fault_of(pki.verifier(), b"<" * (10 * 1024 * 1024 + 1)) is FaultCode.OVERSIZED_MESSAGE
    assert pki.verifier(policy=VerificationPolicy(max_bytes=len(data))).verify(data)


@pytest.mark.parametrize(
    "data",
    [b"not xml at all", b'{"json": true}', b"<Envelope", b"<a></b>", b"\xff\xfe\xfa", b"<a>\xc3\x28</a>"],
    ids=["text", "json", "truncated", "mismatched", "binary", "invalid-utf8"],
)
def test_bytes_that_are_not_xml(pki, data):
    assert fault_of(pki.verifier(), data) is FaultCode.MALFORMED_MESSAGE


@pytest.mark.parametrize("data", [b"", b"   \n\t", bytearray()], ids=["empty", "blank", "bytearray"])
def test_empty_input(pki, data):
    assert fault_of(pki.verifier(), data) is FaultCode.MALFORMED_MESSAGE


def test_text_instead_of_bytes(pki):
    assert fault_of(pki.verifier(), signed(pki.identity(CLIENT)).decode()) is FaultCode.MALFORMED_MESSAGE


def test_utf16_and_nul_bytes(pki):
    data = signed(pki.identity(CLIENT))
    utf16 = ('<?xml version="1.0" encoding="UTF-16"?>' + data.decode()).encode("utf-16")
    assert fault_of(pki.verifier(), utf16) is FaultCode.MALFORMED_MESSAGE
    assert fault_of(pki.verifier(), data.decode().encode("utf-16-le")) is FaultCode.MALFORMED_MESSAGE
    assert (
        fault_of(pki.verifier(), data.replace(b"</Header>", b"\x00</Header>")) is FaultCode.MALFORMED_MESSAGE
    )


@pytest.mark.parametrize(
    "encoding", ["ISO-8859-1", "UTF-16", "latin1", "US-ASCII", "windows-1252", "utf8", ""]
)
def test_other_declared_encodings_are_refused(pki, encoding):
    """UTF-8 bytes declared otherwise read differently in other tools (``Zoé`` as ``ZoÃ©``): refused."""
    data = signed(pki.identity(CLIENT), body=payload(name="Zoé"))
    for quote in ("'", '"'):
        declared = f"<?xml version='1.0' encoding={quote}{encoding}{quote}?>".encode() + data
        assert fault_of(pki.verifier(), declared) is FaultCode.UNSUPPORTED_ENCODING
    bom = f'\ufeff<?xml version="1.0"\nencoding = "{encoding}" ?>'.encode() + data
    assert fault_of(pki.verifier(), bom) is FaultCode.UNSUPPORTED_ENCODING


@pytest.mark.parametrize(
    "declaration", [b" encoding='utf-8'", b' encoding="UTF-8"', b" standalone='yes'", b"", None]
)
def test_utf8_declared_or_not_verifies(pki, declaration):
    data = signed(pki.identity(CLIENT), body=payload(name="Zoé"))
    if declaration is not None:
        data = b"<?xml version='1.0'" + declaration + b"?>" + data
    verified = pki.verifier().verify(data)
    assert verified.payload.findtext(f"{{{PAYLOAD_NS}}}name") == "Zoé"


def test_root_element_must_be_an_envelope(pki):
    assert fault_of(pki.verifier(), b"<Envelope/>") is FaultCode.MALFORMED_MESSAGE
    assert fault_of(pki.verifier(), b'<x:Envelope xmlns:x="urn:other"/>') is FaultCode.MALFORMED_MESSAGE


def test_internal_entity_expansion_billion_laughs(pki):
    lol = (
        '<?xml version="1.0"?><!DOCTYPE Envelope [<!ENTITY lol "lol">'
        + "".join(
            f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i else "&lol;" * 10}">' for i in range(10)
        )
        + ']><Envelope xmlns="urn:govbus:envelope:1">&lol9;</Envelope>'
    )
    assert fault_of(pki.verifier(), lol.encode()) is FaultCode.FORBIDDEN_XML


def test_internal_entity_in_a_signed_envelope(pki):
    data = signed(pki.identity(CLIENT), body=payload(name="&name;"))
    data = data.replace(b"&amp;name;", b"&name;")
    doctype = '<!DOCTYPE Envelope [<!ENTITY name "Evil SARL">]>'
    assert fault_of(pki.verifier(), _with_doctype(data, doctype)) is FaultCode.FORBIDDEN_XML


def test_external_entity_never_reads_the_file(pki, secret_file):
    doctype = f'<!DOCTYPE Envelope [<!ENTITY xxe SYSTEM "{secret_file.as_uri()}">]>'
    data = signed(pki.identity(CLIENT), body=payload(name="&xxe;")).replace(b"&amp;xxe;", b"&xxe;")
    with pytest.raises(Fault) as caught:
        pki.verifier().verify(_with_doctype(data, doctype))
    assert caught.value.code is FaultCode.FORBIDDEN_XML
    assert SECRET not in caught.value.reason


def test_parameter_entity_never_reads_the_file(pki, secret_file, tmp_path):
    dtd = tmp_path / "evil.dtd"
    dtd.write_text(f'<!ENTITY % file SYSTEM "{secret_file.as_uri()}"><!ENTITY leak "%file;">')
    doctype = f'<!DOCTYPE Envelope [<!ENTITY % remote SYSTEM "{dtd.as_uri()}"> %remote;]>'
    data = signed(pki.identity(CLIENT), body=payload(name="&leak;")).replace(b"&amp;leak;", b"&leak;")
    with pytest.raises(Fault) as caught:
        pki.verifier().verify(_with_doctype(data, doctype))
    assert caught.value.code is FaultCode.FORBIDDEN_XML
    assert SECRET not in caught.value.reason


def test_external_dtd_and_public_identifier(pki, tmp_path):
    data = signed(pki.identity(CLIENT))
    for doctype in (
        f'<!DOCTYPE Envelope SYSTEM "{(tmp_path / "x.dtd").as_uri()}">',
        '<!DOCTYPE Envelope PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">',
        "<!DOCTYPE Envelope>",
    ):
        assert fault_of(pki.verifier(), _with_doctype(data, doctype)) is FaultCode.FORBIDDEN_XML


def test_undeclared_entity_reference(pki):
    data = signed(pki.identity(CLIENT), body=payload(name="&ext;")).replace(b"&amp;ext;", b"&ext;")
    assert fault_of(pki.verifier(), data) is FaultCode.FORBIDDEN_XML


def test_the_parser_itself_resolves_nothing(secret_file, tmp_path):
    """Below the byte check: the configured parser neither expands entities nor loads external ones."""
    parser = _hardened_parser()
    internal = b'<!DOCTYPE a [<!ENTITY e "expanded">]><a>&e;</a>'
    root = etree.fromstring(internal, parser)
    assert "expanded" not in whole_text(root)
    external = f'<!DOCTYPE a [<!ENTITY e SYSTEM "{secret_file.as_uri()}">]><a>&e;</a>'.encode()
    root = etree.fromstring(external, parser)
    assert SECRET not in etree.tostring(root).decode()
    dtd = tmp_path / "p.dtd"
    dtd.write_text(f'<!ENTITY % f SYSTEM "{secret_file.as_uri()}"><!ENTITY leak "%f;">')
    parameter = f'<!DOCTYPE a [<!ENTITY % r SYSTEM "{dtd.as_uri()}"> %r;]><a>&leak;</a>'.encode()
    try:
        root = etree.fromstring(parameter, parser)
    except etree.XMLSyntaxError:
        return
    assert SECRET not in etree.tostring(root).decode()


def test_predefined_entities_and_character_references_are_plain_text(pki):
    data = signed(pki.identity(CLIENT), body=payload(name="A & B"))
    assert b"A &amp; B" in data
    data = data.replace(b"A &amp; B", b"A &#38; &#x42;")
    verifier = pki.verifier()
    assert verifier.verify(data).payload.findtext(f"{{{PAYLOAD_NS}}}name") == "A & B"


def test_xinclude_is_not_processed(pki, secret_file):
    body = payload()
    include = etree.SubElement(
        body, "{http://www.w3.org/2001/XInclude}include", href=secret_file.as_uri(), parse="text"
    )
    assert include is not None
    verified = pki.verifier().verify(signed(pki.identity(CLIENT), body=body))
    assert SECRET not in etree.tostring(verified.root).decode()
    assert verified.payload.find("{http://www.w3.org/2001/XInclude}include") is not None


def test_deep_nesting_is_refused(pki):
    deep = b"<a>" * 5000 + b"</a>" * 5000
    assert _parse_code(deep) is FaultCode.XML_LIMIT_EXCEEDED


@pytest.mark.parametrize(
    "data",
    [
        b"<?xml-stylesheet href='http://evil.example/x.xsl'?><a/>",
        b"<a><?php echo 1; ?></a>",
        b"<a>MA/GOV/A<?x y?>B</a>",
        b"<a/><?after root?>",
    ],
    ids=["stylesheet", "inside", "splitting-text", "after-root"],
)
def test_processing_instructions_are_refused(data):
    assert _parse_code(data) is FaultCode.FORBIDDEN_XML


def test_comments_are_not_data():
    root = parse_untrusted(b"<!-- before --><a><b>12<!---->34</b><!-- x --><c/></a><!-- after -->")
    assert root[0].text == "1234"
    assert [child.tag for child in root] == ["b", "c"]
    assert root.getprevious() is None and root.getnext() is None


def test_cdata_is_plain_text():
    root = parse_untrusted(b"<a>x<![CDATA[<b>&amp;]]>y</a>")
    assert root.text == "x<b>&amp;y"
    assert len(root) == 0


@pytest.mark.parametrize(
    "data",
    [
        b"<?xml version='1.0'?><?xml-stylesheet href='x'?><a/>",
        b"\xef\xbb\xbf<?xml version='1.0'?><a><?x?></a>",
        b"<?xml version='1.0'?>\n<a/>\n<?x?>",
        b"<?xml-model href='x'?><a/>",
        b"<a><!-- c --><?x?></a>",
    ],
    ids=["after-declaration", "after-bom", "trailing", "no-declaration", "with-comment"],
)
def test_processing_instructions_next_to_the_xml_declaration(data):
    assert _parse_code(data) is FaultCode.FORBIDDEN_XML


@pytest.mark.parametrize(
    "data",
    [
        b"<?xml version='1.0'?><a/>",
        b"\xef\xbb\xbf<?xml version='1.0' encoding='UTF-8'?>\n<a>?&gt;</a>",
        b"<a>?</a>",
    ],
    ids=["declaration", "bom", "question-mark"],
)
def test_declarations_are_not_processing_instructions(data):
    assert parse_untrusted(data).tag == "a"
