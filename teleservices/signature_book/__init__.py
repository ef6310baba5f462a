"""The electronic signature book (parapheur): folders of documents through visa and signature circuits.

Domain core, runnable without the bus: ``SignatureBook`` is the service API, ``verify_bundle`` checks a
completed folder's bundle offline. On the bus: ``app`` (``govbus run teleservices.signature_book:app``),
the contracts in ``contract``, and ``EventReceiver`` for the application that receives a book's events.
See docs/signature_book.md. It needs signxml, an optional dependency: ``pip install 'govbus[signature-book]'``.
"""

try:
    import signxml  # noqa: F401 - checked first, for a clear message
except ImportError as missing:  # pragma: no cover - depends on the installation
    raise ImportError("the signature book needs signxml: pip install 'govbus[signature-book]'") from missing

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
