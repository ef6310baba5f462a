"""Property tests of the envelope verifier: arbitrary bytes and mutated signed envelopes.

The verifier either raises a ``Fault`` with a documented code or accepts; it accepts a mutated envelope
only when the mutation left the signed content as canonicalised (exclusive C14N without comments,
signature removed) unchanged, and then reads the same header and payload as from the original.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path

import lxml.etree as etree
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from bus.envelope import EnvelopeVerifier, VerifiedEnvelope
from bus.faults import Fault, FaultCode
from tests.helpers.envelopes import DS, signed
from tests.helpers.pki import CLIENT, ThrowawayPki, build_home

DOCS = Path(__file__).resolve().parents[2] / "docs" / "faults.md"
DOCUMENTED = {FaultCode(code) for code in re.findall(r"`((?:Client|Server)\.\w+)`", DOCS.read_text())}
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=500)

_PLAIN = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn", "Co")) | st.sampled_from("\t\n\r "),
    max_size=24,
)
_NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,8}", fullmatch=True)


class Original:
    """A signed envelope and what verifying it reads."""

    def __init__(self, pki: ThrowawayPki) -> None:
        self.verifier = pki.verifier(replay=False)
        self.raw = signed(pki.identity(CLIENT))
        self.verified = self.verifier.verify(self.raw)
        self.content = signed_content(self.raw)
        self.payload = _c14n(self.verified.payload)


def _c14n(node: etree._Element | etree._ElementTree) -> bytes:
    return etree.tostring(node, method="c14n", exclusive=True, with_comments=False)


def _detach(element: etree._Element) -> None:
    """Remove an element but keep its tail text in place, as the enveloped-signature transform does."""
    parent = element.getparent()
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def signed_content(data: bytes) -> bytes | None:
    """What the signature covers, canonicalised: the document without its signatures; None if unparsable."""
    try:
        root = etree.fromstring(data, _PLAIN)
    except (etree.XMLSyntaxError, ValueError):
        return None
    for signature in list(root.iter(DS + "Signature")):
        if signature is root:
            return None
        _detach(signature)
    return _c14n(root.getroottree())


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Original:
    return Original(build_home(tmp_path_factory.mktemp("home")))


def outcome(verifier: EnvelopeVerifier, data: bytes) -> VerifiedEnvelope | Fault:
    """Verify; a fault must carry a documented code, and nothing else may escape."""
    try:
        return verifier.verify(data)
    except Fault as fault:
        assert fault.code in DOCUMENTED, fault
        return fault


def check_mutant(original: Original, data: bytes) -> VerifiedEnvelope | Fault:
    """Accepted only if the signed content is unchanged, and then it reads exactly as the original."""
    result = outcome(original.verifier, data)
    if currently_in_test_context():
        event(str(result.code) if isinstance(result, Fault) else "verified (neutral)")
    if isinstance(result, VerifiedEnvelope):
        assert signed_content(data) == original.content, "a change to signed content was accepted"
        assert result.header == original.verified.header
        assert _c14n(result.payload) == original.payload
    return result


@SETTINGS
@given(
    data=st.binary(max_size=3000)
    | _TEXT.map(str.encode)
    | st.lists(
        st.sampled_from(
            [
                "<",
                ">",
                "/",
                "=",
                '"',
                "'",
                "&",
                ";",
                "!",
                "?",
                "[",
                "]",
                "-",
                " ",
                "a",
                "Envelope",
                'xmlns="urn:govbus:envelope:1"',
                "<!DOCTYPE",
                "<!ENTITY",
                "<![CDATA[",
                "<?xml",
                "&#0;",
                "\x00",
            ]
        ),
        max_size=40,
    ).map(lambda parts: "".join(parts).encode())
)
def test_arbitrary_bytes_are_refused_with_a_documented_code(original: Original, data: bytes) -> None:
    assert isinstance(outcome(original.verifier, data), Fault)


@st.composite
def byte_mutants(draw: st.DrawFn, raw: bytes) -> bytes:
    data = bytearray(raw)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data) - 1))
        how = draw(st.sampled_from(["flip", "insert", "delete", "copy"]))
        if how == "flip":
            data[at] = draw(st.integers(0, 254).map(lambda b, old=data[at]: b if b < old else b + 1))
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif how == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        else:
            start = draw(st.integers(0, len(data) - 1))
            data[at:at] = data[start : start + draw(st.integers(1, 64))]
    return bytes(data)


@SETTINGS
@given(st.data())
def test_byte_mutations_never_verify_unless_neutral(original: Original, data: st.DataObject) -> None:
    mutant = data.draw(byte_mutants(original.raw))
    assume(mutant != original.raw)
    check_mutant(original, mutant)


def _elements(root: etree._Element) -> list[etree._Element]:
    return [node for node in root.iter() if isinstance(node.tag, str)]


def _mutate_tree(draw: st.DrawFn, root: etree._Element) -> str:
    """Apply one tree mutation in place; return its name."""
    elements = _elements(root)
    target = draw(st.sampled_from(elements))
    parent = target.getparent()
    how = draw(
        st.sampled_from(
            [
                "text",
                "tail",
                "attribute",
                "drop-attributes",
                "duplicate",
                "move",
                "delete",
                "comment",
                "pi",
                "rename",
                "swap",
            ]
        )
    )
    if how == "text":
        target.text = draw(_TEXT)
    elif how == "tail" and parent is not None:
        target.tail = draw(_TEXT)
    elif how == "attribute":
        name = draw(_NAME)
        namespace = draw(st.sampled_from([None, "urn:govbus:envelope:1", "urn:x", DS[1:-1]]))
        target.set(f"{{{namespace}}}{name}" if namespace else name, draw(_TEXT))
    elif how == "drop-attributes":
        target.attrib.clear()
    elif how == "duplicate" and parent is not None:
        target.addnext(copy.deepcopy(target))
    elif how == "move" and parent is not None:
        inside = set(target.iter())
        destination = draw(st.sampled_from([e for e in elements if e not in inside]))
        _detach(target)
        destination.insert(draw(st.integers(0, len(destination))), target)
    elif how == "delete" and parent is not None:
        _detach(target)
    elif how == "comment":
        text = draw(_TEXT.filter(lambda t: "--" not in t and not t.endswith("-")))
        target.insert(draw(st.integers(0, len(target))), etree.Comment(text))
    elif how == "pi":
        target.insert(
            draw(st.integers(0, len(target))), etree.PI("govbus", draw(_TEXT.filter(lambda t: "?>" not in t)))
        )
    elif how == "rename":
        namespace = etree.QName(target).namespace
        target.tag = draw(st.sampled_from([f"{{{namespace}}}{draw(_NAME)}", draw(_NAME), "{urn:x}Header"]))
    elif how == "swap" and parent is not None and len(parent) > 1:
        other = draw(st.sampled_from([e for e in parent if e is not target]))
        a, b = parent.index(target), parent.index(other)
        parent[a], parent[b] = copy.deepcopy(other), copy.deepcopy(target)
    else:
        return "none"
    return how


@SETTINGS
@given(st.data())
def test_tree_mutations_never_verify_unless_neutral(original: Original, data: st.DataObject) -> None:
    root = etree.fromstring(original.raw)
    mutations = [_mutate_tree(data.draw, root) for _ in range(data.draw(st.integers(1, 3)))]
    try:
        mutant = etree.tostring(root, encoding="UTF-8")
    except ValueError:  # text lxml cannot serialise
        assume(False)
    assume(mutant != original.raw)
    result = check_mutant(original, mutant)
    if b"<?govbus" in mutant:
        assert isinstance(result, Fault) and result.code is FaultCode.FORBIDDEN_XML, mutations


DOCTYPES = [
    b"<!DOCTYPE Envelope>",
    b'<!DOCTYPE Envelope [<!ENTITY e "x">]>',
    b'<!DOCTYPE Envelope SYSTEM "file:///etc/passwd">',
    b'<!DOCTYPE Envelope [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x">%p;]>',
]


@settings(deadline=None, max_examples=60)
@given(doctype=st.sampled_from(DOCTYPES), declaration=st.booleans(), pi=st.booleans())
def test_dtds_and_processing_instructions_are_forbidden_anywhere(
    original: Original, doctype: bytes, declaration: bool, pi: bool
) -> None:
    body = etree.tostring(etree.fromstring(original.raw))
    prolog = b"<?xml version='1.0' encoding='UTF-8'?>\n" if declaration else b""
    mutant = prolog + (b"<?govbus x?>" if pi else doctype) + body
    result = outcome(original.verifier, mutant)
    assert isinstance(result, Fault) and result.code is FaultCode.FORBIDDEN_XML


NEUTRAL: list[Callable[[bytes], bytes]] = [
    lambda raw: raw.replace(b"<Header>", b"<Header><!-- a comment -->", 1),
    lambda raw: raw.replace(b"</purpose>", b"<!---->" + b"</purpose>", 1),
    lambda raw: raw.replace(b"<Body>", b'<Body xmlns:unused="urn:unused">', 1),
    lambda raw: raw.replace(
        b'<Envelope xmlns="urn:govbus:envelope:1">', b'<Envelope  xmlns = "urn:govbus:envelope:1" >', 1
    ),
    lambda raw: re.sub(rb"(<ds:SignatureValue>)([A-Za-z0-9+/]{10})", rb"\1\2\n", raw, count=1),
]


@pytest.mark.parametrize("mutation", range(len(NEUTRAL)))
def test_neutral_changes_verify_and_read_the_same(original: Original, mutation: int) -> None:
    mutant = NEUTRAL[mutation](original.raw)
    assert mutant != original.raw
    result = check_mutant(original, mutant)
    assert isinstance(result, VerifiedEnvelope), result
