"""Hardened XML parsing: size limit, UTF-8 only, no DTD, no entities, no network, no comments in the data.

Every byte that reaches govbus from outside goes through ``parse_untrusted`` before anything else looks
at it. Comments are dropped at parse time: exclusive C14N without comments ignores them too, so
signatures still verify, and a field's text is then its whole text (no ``AB<!---->123`` splitting).
Processing instructions are refused: C14N keeps them, so they would be signed, yet they split an
element's text (``.text`` of ``<a>1<?x?>000</a>`` is "1") and mean nothing in a govbus message.
"""

from __future__ import annotations

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


_PARSER = _hardened_parser()


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
    if not data.strip():
        raise Fault(FaultCode.MALFORMED_MESSAGE, "the message is empty")
    if b"\x00" in data:
        raise Fault(FaultCode.MALFORMED_MESSAGE, "messages are UTF-8 XML and cannot contain NUL bytes")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise Fault(FaultCode.FORBIDDEN_XML, "DOCTYPE and ENTITY declarations are not allowed")
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as error:
        if _mentions_dtd(str(error)):
            raise Fault(FaultCode.FORBIDDEN_XML, f"DTDs and entities are not allowed: {error}") from None
        raise Fault(FaultCode.MALFORMED_MESSAGE, f"not well-formed XML: {error}") from None
    except ValueError as error:  # e.g. an encoding declaration lxml refuses
        raise Fault(FaultCode.MALFORMED_MESSAGE, f"not acceptable XML: {error}") from None
    if root is None:
        raise Fault(FaultCode.MALFORMED_MESSAGE, "no root element")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise Fault(FaultCode.FORBIDDEN_XML, "a DOCTYPE declaration is not allowed")
    if root.getprevious() is not None or root.getnext() is not None:
        raise Fault(FaultCode.FORBIDDEN_XML, "processing instructions are not allowed")
    for node in root.iter(etree.Entity, etree.PI):
        what = "entity references" if isinstance(node, etree._Entity) else "processing instructions"
        raise Fault(FaultCode.FORBIDDEN_XML, f"{what} are not allowed")
    return root


def _mentions_dtd(message: str) -> bool:
    lowered = message.lower()
    return any(word in lowered for word in ("entity", "doctype", "dtd"))


def whole_text(element: etree._Element | None) -> str | None:
    """The element's complete text content (all text nodes joined), or None when absent."""
    if element is None:
        return None
    return "".join(element.itertext())
