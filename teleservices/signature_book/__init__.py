"""The electronic signature book (parapheur): folders of documents through visa and signature circuits.

Domain core, runnable without the bus: ``SignatureBook`` is the service API, ``verify_bundle`` checks a
completed folder's bundle offline. On the bus: ``app`` (``govbus run teleservices.signature_book:app``),
the contracts in ``contract``, and ``EventReceiver`` for the application that receives a book's events.
See docs/signature_book.md. Signing and checking need signxml, an optional dependency: ``pip install
'govbus[signature-book]'``. The names below are loaded on first use, so an application that only
receives a book's events (``EventReceiver``, ``contract``, ``models``) does not import signxml.
"""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from teleservices.signature_book.book import SignatureBook
    from teleservices.signature_book.bundle import BundleReport, verify_bundle
    from teleservices.signature_book.circuit import Circuit, Quorum, Step, StepKind
    from teleservices.signature_book.config import BookConfig, BusinessType
    from teleservices.signature_book.errors import BundleInvalid, SignatureBookError
    from teleservices.signature_book.events import EventSink, MemorySink
    from teleservices.signature_book.receiver import EventReceiver
    from teleservices.signature_book.service import BookService, app
    from teleservices.signature_book.timestamp import LocalTimestampAuthority, TimestampService
    from teleservices.signature_book.workflow import FolderStatus
    from teleservices.signature_book.xades import DetachedXadesSigner

_WHERE = {
    "SignatureBook": "book",
    "BundleReport": "bundle",
    "verify_bundle": "bundle",
    "Circuit": "circuit",
    "Quorum": "circuit",
    "Step": "circuit",
    "StepKind": "circuit",
    "BookConfig": "config",
    "BusinessType": "config",
    "BundleInvalid": "errors",
    "SignatureBookError": "errors",
    "EventSink": "events",
    "MemorySink": "events",
    "EventReceiver": "receiver",
    "BookService": "service",
    "app": "service",
    "LocalTimestampAuthority": "timestamp",
    "TimestampService": "timestamp",
    "FolderStatus": "workflow",
    "DetachedXadesSigner": "xades",
}
_WITHOUT_SIGNXML = frozenset({"receiver", "errors", "circuit", "workflow"})


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if module not in _WITHOUT_SIGNXML and find_spec("signxml") is None:  # pragma: no cover - installation
        raise ImportError("the signature book needs signxml: pip install 'govbus[signature-book]'")
    return getattr(import_module(f"{__name__}.{module}"), name)


__all__ = [
    "BookConfig",
    "BookService",
    "BundleInvalid",
    "BundleReport",
    "BusinessType",
    "Circuit",
    "DetachedXadesSigner",
    "EventReceiver",
    "EventSink",
    "FolderStatus",
    "LocalTimestampAuthority",
    "MemorySink",
    "Quorum",
    "SignatureBook",
    "SignatureBookError",
    "Step",
    "StepKind",
    "TimestampService",
    "app",
    "verify_bundle",
]
