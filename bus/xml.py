"""Hardened XML parsing: size limit, UTF-8 only, no DTD, no entities, no network, no comments in the data.

Every byte that reaches govbus from outside goes through ``parse_untrusted`` before anything else looks
at it. Comments are dropped at parse time: exclusive C14N without comments ignores them too, so
signatures still verify, and a field's text is then its whole text (no ``AB<!---->123`` splitting).
Processing instructions are refused: C14N keeps them, so they would be signed, yet they split an
element's text (``.text`` of ``<a>1<?x?>000</a>`` is "1") and mean nothing in a govbus message.
"""

from __future__ import annotations

import threading

import lxml.etree as etree
import xmlsec

from bus.faults import Fault, FaultCode

DEFAULT_MAX_BYTES = 10 * 1024 * 1024

if xmlsec.get_libxml_version() != etree.LIBXML_VERSION:  # pragma: no cover - an installation defect
    raise ImportError(
        f"lxml links libxml2 {etree.LIBXML_VERSION} but python-xmlsec links {xmlsec.get_libxml_version()}: "
        "install wheels of both that agree (see pyproject.toml)"
    )


class _RefuseExternal(etree.Resolver):
    """Refuses every external load (DTDs, parameter entities, XIncludes): the parser reads no file or URL."""

    def resolve(self, system_url: str, public_id: str, context: object) -> None:
        raise etree.XMLSyntaxError(f"external entity {system_url!r} refused", None, 0, 0)  # type: ignore[call-arg]


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


def parse_untrusted(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse bytes from outside into an element tree, or raise a ``Fault`` saying why not.

    Raises ``Client.OversizedMessage`` above ``max_bytes`` (checked before parsing),
    ``Client.ForbiddenXml`` for any DOCTYPE, entity declaration, entity reference or processing
    instruction, and
    ``Client.MalformedMessage`` for anything that is not well-formed XML.
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
    # Single-byte scans are memchr-fast; "<!" and "<?" scans (slow on XML, '<' is everywhere) only follow them.
    bang = b"!" in data and b"<!" in data
    if bang and (b"<!DOCTYPE" in data or b"<!ENTITY" in data):
        raise Fault(FaultCode.FORBIDDEN_XML, "DOCTYPE and ENTITY declarations are not allowed")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
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
        docinfo = root.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
            raise Fault(FaultCode.FORBIDDEN_XML, "a DOCTYPE declaration is not allowed")
        _refuse_nodes(root)
    else:
        start = _prolog_end(data)
        if data.find(b"?", start) != -1 and data.find(b"<?", start) != -1:
            _refuse_nodes(root)
    return root


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
    return "".join(element.itertext())
