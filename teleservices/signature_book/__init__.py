"""The electronic signature book (parapheur): folders of documents through visa and signature circuits.

Domain core, runnable without the bus: ``SignatureBook`` is the service API, ``verify_bundle`` checks a
completed folder's bundle offline. See docs/signature_book.md.
"""

from teleservices.signature_book.book import SignatureBook
from teleservices.signature_book.bundle import BundleReport, verify_bundle
from teleservices.signature_book.circuit import Circuit, Quorum, Step, StepKind
from teleservices.signature_book.config import BookConfig, BusinessType
from teleservices.signature_book.errors import BundleInvalid, SignatureBookError
from teleservices.signature_book.events import EventSink, MemorySink
from teleservices.signature_book.timestamp import LocalTimestampAuthority, TimestampService
from teleservices.signature_book.workflow import FolderStatus
from teleservices.signature_book.xades import DetachedXadesSigner

__all__ = [
    "BookConfig",
    "BundleInvalid",
    "BundleReport",
    "BusinessType",
    "Circuit",
    "DetachedXadesSigner",
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
    "verify_bundle",
]
