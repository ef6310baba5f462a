"""Showing a folder's documents in any browser, phones included, with no PDF plugin and no script.

- PDF: each page rendered server-side to a PNG by pypdfium2 (PDFium, the engine of Chromium's own
  viewer: maintained, fast, no external process, no JavaScript in the page). At most ``MAX_PAGES``
  pages are shown; a PDF PDFium cannot open is reported, never passed to the browser.
- XML: parsed by ``bus.xml.parse_untrusted`` (no DTD, no entity, no external resource, size and depth
  limits) and re-indented; the template escapes the text, so markup is shown, never interpreted.
- Plain text is shown escaped; anything else is offered for download only.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

import lxml.etree as etree
import pypdfium2

from bus.faults import Fault
from bus.xml import parse_untrusted

MAX_PAGES = 30
PAGE_WIDTH = 1000  # pixels: readable on a desktop, scaled down by the page on a phone
MAX_PIXELS = 4_000_000  # a page of odd proportions is rendered smaller, never larger than this
_PDFIUM = threading.Lock()  # PDFium is not thread-safe


class NotViewable(ValueError):
    """The document cannot be shown in the browser; the message says why."""


@dataclass(frozen=True, slots=True)
class View:
    kind: str  # "pdf", "xml", "text" or "download"
    pages: int = 0
    text: str = ""
    note: str = ""


def view(mime_type: str, content: bytes) -> View:
    """How the document is shown: a PDF's page count, an XML or text document's escaped-to-be text."""
    if mime_type == "application/pdf":
        count = pdf_page_count(content)
        note = f"{MAX_PAGES} premières pages sur {count}" if count > MAX_PAGES else ""
        return View("pdf", pages=min(count, MAX_PAGES), note=note)
    if mime_type in ("application/xml", "text/xml") or mime_type.endswith("+xml"):
        return View("xml", text=pretty_xml(content))
    if mime_type.startswith("text/"):
        try:
            return View("text", text=content.decode("utf-8"))
        except UnicodeDecodeError:
            raise NotViewable("ce texte n'est pas en UTF-8") from None
    return View("download")


def pdf_page_count(content: bytes) -> int:
    with _PDFIUM:
        document = _open(content)
        try:
            return len(document)
        finally:
            document.close()


def pdf_page_png(content: bytes, index: int, *, width: int = PAGE_WIDTH) -> bytes:
    """Page ``index`` (from 0) of a PDF as a PNG ``width`` pixels wide."""
    if not 0 <= index < MAX_PAGES:
        raise NotViewable(f"page {index + 1} is not shown")
    with _PDFIUM:
        document = _open(content)
        try:
            if index >= len(document):
                raise NotViewable(f"the document has {len(document)} pages")
            page = document[index]
            page_width, page_height = max(page.get_width(), 1.0), max(page.get_height(), 1.0)
            scale = min(width / page_width, 4.0)
            scale = min(scale, (MAX_PIXELS / (page_width * page_height)) ** 0.5)
            image = page.render(scale=scale).to_pil()
            page.close()
        finally:
            document.close()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _open(content: bytes) -> pypdfium2.PdfDocument:
    try:
        return pypdfium2.PdfDocument(content)
    except pypdfium2.PdfiumError as error:
        raise NotViewable(f"PDF illisible : {error}") from None


def pretty_xml(content: bytes) -> str:
    """The XML re-indented, after the bus's hardened parse (entities and DTDs refused)."""
    try:
        root = parse_untrusted(content)
    except Fault as fault:
        raise NotViewable(f"XML refusé ({fault.code}) : {fault.reason}") from None
    etree.indent(root, space="  ")
    return etree.tostring(root, encoding="unicode")
