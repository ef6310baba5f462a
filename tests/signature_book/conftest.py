"""Fixtures for the signature book: a throwaway bus PKI, books on it, signatories' signers, a settable clock."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bus.envelope.model import utc_now
from bus.ids import ParticipantId
from bus.pki import BusHome, SigningIdentity, TrustStore
from bus.pki.authority import CertificateAuthority, KeyAlgorithm
from sdk.storage import Storage
from teleservices.signature_book import BookConfig, DetachedXadesSigner, MemorySink, SignatureBook
from teleservices.signature_book.models import CircuitStep, DocumentUpload, SubmitFolder

BOOK = "MA/GOV/MEF/parapheur"
TSA = "MA/GOV/MEF/horodatage"
AGENT = "MA/GOV/MEF/agent-rh"
DRH = "MA/GOV/MEF/drh"
DAF = "MA/GOV/MEF/daf"
SG = "MA/GOV/MEF/sg"
ADJOINT = "MA/GOV/MEF/sg-adjoint"
MINISTER = "MA/GOV/MEF/ministre"
PARTICIPANTS = (BOOK, TSA, AGENT, DRH, DAF, SG, ADJOINT, MINISTER)

CONTRACT = b"%PDF-1.7\n% arrete de nomination\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
ANNEX = "Annexe : fiche de poste, échelle 10.\n".encode()


def pid(text: str) -> ParticipantId:
    return ParticipantId.parse(text)


class Clock:
    """A clock tests move by hand (no sleeping): starts at the real now, in UTC, millisecond precision."""

    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now


@dataclass
class Pki:
    """A bus home with its CA and every test participant; signers built once per participant."""

    home: BusHome
    authority: CertificateAuthority
    _signers: dict[str, DetachedXadesSigner] = field(default_factory=dict)

    def signer(self, participant: str) -> DetachedXadesSigner:
        if participant not in self._signers:
            self._signers[participant] = DetachedXadesSigner(
                SigningIdentity.from_home(self.home, participant)
            )
        return self._signers[participant]

    def trust(self) -> TrustStore:
        return TrustStore.from_home(self.home)

    def revoke(self, participant: str) -> None:
        self.authority.revoke(pid(participant))


def build_pki(root: Path, algorithm: KeyAlgorithm = KeyAlgorithm.EC) -> Pki:
    home = BusHome.at(root)
    authority = CertificateAuthority.init(home, algorithm=algorithm)
    for participant in PARTICIPANTS:
        authority.issue(pid(participant))
    return Pki(home, authority)


@pytest.fixture
def bus_pki(tmp_path: Path) -> Pki:
    """A fresh EC bus PKI for this test (revoke freely)."""
    return build_pki(tmp_path / "home")


@pytest.fixture
def clock() -> Clock:
    return Clock()


BookFactory = Callable[..., SignatureBook]


@pytest.fixture
def book_storage() -> Storage | None:
    """Where books keep their tables: None for SQLite in the book directory (modules override it)."""
    return None


@pytest.fixture
def make_book(tmp_path: Path, bus_pki: Pki, clock: Clock, book_storage: Storage | None) -> BookFactory:
    """Open a book on the test PKI; ``tsa=True`` configures the local timestamp authority (B-T)."""

    def make(
        *, tsa: bool = False, sink: MemorySink | None = None, name: str = "book", **config: object
    ) -> SignatureBook:
        directory = tmp_path / name
        if not (directory / "config.json").exists():
            SignatureBook.create(
                directory,
                BookConfig(pid(BOOK), timestamp_authority=pid(TSA) if tsa else None, **config),  # type: ignore[arg-type]
                storage=book_storage,
            )
        return SignatureBook.open(directory, bus_pki.home, sink=sink, clock=clock, storage=book_storage)

    return make


@pytest.fixture
def sink() -> MemorySink:
    return MemorySink()


@pytest.fixture
def book(make_book: BookFactory, sink: MemorySink) -> SignatureBook:
    """A B-B book (no timestamp authority) whose events go to ``sink``."""
    return make_book(sink=sink)


def step(kind: str, *signatories: str, quorum: str = "all") -> CircuitStep:
    return CircuitStep(kind=kind, quorum=quorum, signatories=list(signatories))  # type: ignore[arg-type]


def submission(
    *steps: CircuitStep,
    documents: Sequence[tuple[str, str, bytes]] = (("arrete.pdf", "application/pdf", CONTRACT),),
    business_type: str = "hr",
    **fields: object,
) -> SubmitFolder:
    return SubmitFolder(
        title="Arrêté de nomination",
        business_type=business_type,
        documents=[DocumentUpload(name=n, mime_type=m, content=c) for n, m, c in documents],
        circuit=list(steps),
        **fields,  # type: ignore[arg-type]
    )


def visa_then_signature() -> SubmitFolder:
    return submission(step("visa", DRH), step("signature", SG))


def an_hour_from(moment: datetime) -> datetime:
    return moment + timedelta(hours=1)


def utc(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


@pytest.fixture
def make_world(broker_url: str | None, tmp_path: Path):
    """Start the book on a test bus (memory:// and RabbitMQ) with its signatories and the submitting app."""
    from tests.signature_book.bus_world import BookWorld

    worlds: list[BookWorld] = []

    def make(*, tsa: bool = False, agent: bool = True) -> BookWorld:
        book_world = BookWorld(tmp_path / f"bus{len(worlds)}", broker_url, tsa=tsa)
        worlds.append(book_world)
        return book_world.start(agent=agent)

    yield make
    for book_world in worlds:
        book_world.close()


@pytest.fixture
def world(make_world):
    """The book on a test bus, B-B (no timestamp authority), everyone running."""
    return make_world()
