"""Hardened XML parsing: size limit, UTF-8 only, no DTD, no entities, no network, no comments in the data,
and bounded structure.

Every byte that reaches govbus from outside goes through ``parse_untrusted`` before anything else looks
at it. The structural limits (``XmlLimits``) bound the work later steps can be made to do before a
signature is checked: exclusive C14N is quadratic in the attributes of one element and grows with the
namespaces in scope times the elements, and libxmlsec canonicalises the whole document before it compares
the signature value. Each limit is checked right after the parse, with byte counts first (a count of
``=``, ``<`` or ``xmlns`` in the input bounds the count in the tree), so ordinary messages pay a few
milliseconds at most. Comments are dropped at parse time: exclusive C14N without comments ignores them too, so
signatures still verify, and a field's text is then its whole text (no ``AB<!---->123`` splitting).
Processing instructions are refused: C14N keeps them, so they would be signed, yet they split an
element's text (``.text`` of ``<a>1<?x?>000</a>`` is "1") and mean nothing in a govbus message.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import lxml.etree as etree
import xmlsec

from bus.faults import Fault, FaultCode

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 256
"""libxml2's element depth limit without XML_PARSE_HUGE; deeper is ``Client.XmlLimitExceeded``."""
MAX_TEXT_BYTES = 10_000_000
"""libxml2's limit on one text node or attribute value without XML_PARSE_HUGE."""


@dataclass(frozen=True, slots=True)
class XmlLimits:
    """Structural limits on a parsed document; each broken one is ``Client.XmlLimitExceeded``.

    Measured on 2 vCPU (docs/architecture.md): C14N of one element with 10,000 attributes takes 0.3 s
    and grows with their square; with 2,000 namespaces in scope, 20,000 elements take 0.17 s and the
    cost grows with the product. Within these limits verification stays linear in the input size.
    """

    max_attributes_per_element: int = 256
    max_namespace_declarations: int = 64
    max_elements: int = 500_000


DEFAULT_LIMITS = XmlLimits()

if xmlsec.get_libxml_version() != etree.LIBXML_VERSION:  # pragma: no cover - an installation defect
    raise ImportError(
        f"lxml links libxml2 {etree.LIBXML_VERSION} but python-xmlsec links {xmlsec.get_libxml_version()}: "
        "install wheels of both that agree (see pyproject.toml)"
    )


class _RefuseExternal(etree.Resolver):
    """Refuses every external load (DTDs, parameter entities, XIncludes): the parser reads no file or URL."""

    def resolve(self, system_url: str, public_id: str, context: object) -> None:  # type: ignore[override]
        # lxml calls resolve(url, pubid, context); lxml-stubs name only the first two.
        raise etree.XMLSyntaxError(f"external entity {system_url!r} refused", None, 0, 0)  # type: ignore[arg-type, call-arg]


def _hardened_parser() -> etree.XMLParser:
    parser = etree.XMLParser(
        encoding="utf-8",
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_blank_text=False,
        collect_ids=False,
    )
    parser.resolvers.add(_RefuseExternal())
    return parser


_local = threading.local()


def _parser() -> etree.XMLParser:
    """This thread's hardened parser (an lxml parser serialises the threads that share it)."""
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = _hardened_parser()
    return parser


def parse_untrusted(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, limits: XmlLimits = DEFAULT_LIMITS
) -> etree._Element:
    """Parse bytes from outside into an element tree, or raise a ``Fault`` saying why not.

    Raises ``Client.OversizedMessage`` above ``max_bytes`` (checked before parsing),
    ``Client.UnsupportedEncoding`` when the XML declaration names an encoding other than UTF-8,
    ``Client.ForbiddenXml`` for any DOCTYPE, entity declaration, entity reference or processing
    instruction, ``Client.XmlLimitExceeded`` when the tree breaks ``limits`` (or libxml2's depth and
    text limits), and ``Client.MalformedMessage`` for anything that is not well-formed XML.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise Fault(FaultCode.MALFORMED_MESSAGE, f"expected bytes, got {type(data).__name__}")
    if len(data) > max_bytes:
        raise Fault(FaultCode.OVERSIZED_MESSAGE, f"{len(data)} bytes is over the {max_bytes}-byte limit")
    data = bytes(data)
    if not data or data.isspace():
        raise Fault(FaultCode.MALFORMED_MESSAGE, "the message is empty")
    if b"\x00" in data:
        raise Fault(FaultCode.MALFORMED_MESSAGE, "messages are UTF-8 XML and cannot contain NUL bytes")
    _refuse_other_encodings(data)
    # Single-byte scans are memchr-fast; "<!" and "<?" scans (slow on XML, '<' is everywhere) only follow them.
    bang = b"!" in data and b"<!" in data
    if bang and (b"<!DOCTYPE" in data or b"<!ENTITY" in data):
        raise Fault(FaultCode.FORBIDDEN_XML, "DOCTYPE and ENTITY declarations are not allowed")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        if _mentions_limit(str(error)):
            raise Fault(FaultCode.XML_LIMIT_EXCEEDED, f"{error}") from None
        if _mentions_dtd(str(error)):
            raise Fault(FaultCode.FORBIDDEN_XML, f"DTDs and entities are not allowed: {error}") from None
        raise Fault(FaultCode.MALFORMED_MESSAGE, f"not well-formed XML: {error}") from None
    except ValueError as error:  # e.g. an encoding declaration lxml refuses
        raise Fault(FaultCode.MALFORMED_MESSAGE, f"not acceptable XML: {error}") from None
    if root is None:
        raise Fault(FaultCode.MALFORMED_MESSAGE, "no root element")
    # The input is UTF-8, so a DTD (and with it any entity node) needs the bytes "<!" and a processing
    # instruction needs "<?" after the XML declaration: without them the tree cannot hold either.
    if bang:
        docinfo: Any = root.getroottree().docinfo  # lxml-stubs lack doctype and the DTD properties
        if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
            raise Fault(FaultCode.FORBIDDEN_XML, "a DOCTYPE declaration is not allowed")
        _refuse_nodes(root)
    else:
        start = _prolog_end(data)
        if data.find(b"?", start) != -1 and data.find(b"<?", start) != -1:
            _refuse_nodes(root)
    check_limits(root, data, limits)
    return root


_ENCODING = re.compile(rb"<\?xml[ \t\r\n][^>]*?encoding[ \t\r\n]*=[ \t\r\n]*([\"'])([^\"']*)\1")


def _refuse_other_encodings(data: bytes) -> None:
    """UTF-8 only, as declared: a document declaring another encoding reads differently in every other
    tool (xmlsec1, a browser), so what govbus verified would not be what they show. (UTF-16 text has
    NUL bytes, which are refused before this check.)"""
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    if not data.startswith(b"<?xml", start):
        return
    end = data.find(b"?>", start)
    declaration = _ENCODING.match(data, start, end + 2 if end != -1 else min(len(data), start + 200))
    if declaration is not None and declaration.group(2).lower() != b"utf-8":
        name = declaration.group(2).decode("ascii", "replace")[:40]
        raise Fault(FaultCode.UNSUPPORTED_ENCODING, f"declared encoding {name!r}: messages are UTF-8")


def check_limits(root: etree._Element, data: bytes, limits: XmlLimits = DEFAULT_LIMITS) -> None:
    """Raise ``Client.XmlLimitExceeded`` when the tree parsed from ``data`` breaks ``limits``.

    Each count in the tree is at most a count of bytes in the input (an element needs a ``<``, an
    attribute a ``=``, a namespace declaration ``xmlns``), so the tree is walked only when that byte
    count is over the limit; each walk is linear in the tree.
    """
    if data.count(b"<") > limits.max_elements:
        elements = int(cast(float, root.xpath("count(//*)")))
        if elements > limits.max_elements:
            raise Fault(
                FaultCode.XML_LIMIT_EXCEEDED,
                f"{elements} elements; at most {limits.max_elements} are allowed",
            )
    if data.count(b"=") > limits.max_attributes_per_element:
        most = limits.max_attributes_per_element
        if root.xpath(f"boolean(//@*[{most + 1}])"):  # some element has a (most + 1)th attribute
            raise Fault(FaultCode.XML_LIMIT_EXCEEDED, f"an element has more than {most} attributes")
    if data.count(b"xmlns") > limits.max_namespace_declarations:
        declared = sum(1 for _ in etree.iterwalk(root, events=("start-ns",)))
        if declared > limits.max_namespace_declarations:
            raise Fault(
                FaultCode.XML_LIMIT_EXCEEDED,
                f"{declared} namespace declarations; at most {limits.max_namespace_declarations} are allowed",
            )


def _mentions_limit(message: str) -> bool:
    lowered = message.lower()
    return "excessive depth" in lowered or "huge" in lowered or "too long" in lowered


def _prolog_end(data: bytes) -> int:
    """Where the XML declaration (and a UTF-8 byte-order mark before it) ends, or 0."""
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    if data.startswith(b"<?xml", start) and data[start + 5 : start + 6] in (b" ", b"\t", b"\r", b"\n"):
        end = data.find(b"?>", start)
        return end + 2 if end != -1 else start
    return start


def _refuse_nodes(root: etree._Element) -> None:
    if root.getprevious() is not None or root.getnext() is not None:
        raise Fault(FaultCode.FORBIDDEN_XML, "processing instructions are not allowed")
    for node in root.iter(etree.Entity, etree.PI):
        what = "entity references" if isinstance(node, etree._Entity) else "processing instructions"
        raise Fault(FaultCode.FORBIDDEN_XML, f"{what} are not allowed")


def _mentions_dtd(message: str) -> bool:
    lowered = message.lower()
    return any(word in lowered for word in ("entity", "doctype", "dtd"))


def whole_text(element: etree._Element | None) -> str | None:
    """The element's complete text content (all text nodes joined), or None when absent."""
    if element is None:
        return None
    return "".join(cast("Iterator[str]", element.itertext()))
