"""The bundle of a completed folder: a zip that proves, offline, what was signed, by whom, in which circuit.

::

    README.txt                what this is and how to verify it
    manifest.json             folder, book, documents and signatures with their SHA-256, history head
    history.json              the folder's hash-linked history (see ``history``)
    seal.xml                  the book's detached XAdES (ProofOfOrigin) over manifest.json and history.json
    documents/NAME            the documents, byte for byte as submitted
    signatures/NNN-....xml    one detached XAdES per signature that counts, over every document

``verify_bundle`` needs only the bus CA certificate (and the CRL to check revocation): it checks the
seal, every file digest, the history chain, replays the history through the workflow (so the circuit
was really followed to completion), and verifies every signature against the documents, its signatory,
its step and its "on behalf of" delegation. Trust is judged at a signature's timestamp (B-T) or at the
verification time (B-B).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
import zlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from teleservices.signature_book._bus import Fault, ParticipantId, TrustStore
from teleservices.signature_book.errors import BundleInvalid, SignatureBookError, SignatureRefused
from teleservices.signature_book.history import (
    DocumentRef,
    HistoryEntry,
    parse_history,
    sha256_hex,
)
from teleservices.signature_book.signing import check_folder_signature, document_uri
from teleservices.signature_book.times import format_timestamp, utc_now
from teleservices.signature_book.timestamp import TimestampService
from teleservices.signature_book.workflow import FolderState, FolderStatus, replay
from teleservices.signature_book.xades import (
    CLOCK_SKEW,
    PROOF_OF_ORIGIN,
    DetachedObject,
    DetachedXadesSigner,
    add_signature_timestamp,
    verify_detached,
)

FORMAT = "govbus-signature-book-bundle/1"
MANIFEST = "manifest.json"
HISTORY = "history.json"
SEAL = "seal.xml"
README = "README.txt"
MAX_FILES = 200
MAX_TOTAL_BYTES = 512 * 1024 * 1024


def signature_path(entry: HistoryEntry) -> str:
    """Where a signature sits in a bundle: ``signatures/007-step2-MA+GOV+MEF+sg.xml``."""
    return f"signatures/{entry.seq:03d}-step{entry.step}-{str(entry.actor).replace('/', '+')}.xml"


def build_manifest(
    state: FolderState,
    signatures: Sequence[tuple[HistoryEntry, str]],
    history: bytes,
    *,
    book: ParticipantId,
    timestamp_authority: ParticipantId | None,
) -> bytes:
    """The manifest of a completed folder (``signatures``: each ``signed`` entry with its file's SHA-256)."""
    definition = state.definition
    assert state.last is not None and state.closed_at is not None
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "book": str(book),
        "folder": definition.id,
        "title": definition.title,
        "businessType": definition.business_type,
        "submitter": str(definition.submitter),
        "status": str(state.status),
        "completedAt": format_timestamp(state.closed_at),
        "timestampAuthority": str(timestamp_authority) if timestamp_authority else None,
        "documents": [{**d.as_json(), "path": document_uri(d.name)} for d in definition.documents],
        "signatures": [
            {
                "path": signature_path(entry),
                "sha256": digest,
                "seq": entry.seq,
                "step": entry.step,
                "signatory": str(entry.actor),
                "onBehalfOf": str(entry.on_behalf_of) if entry.on_behalf_of else None,
            }
            for entry, digest in signatures
        ],
        "history": {
            "path": HISTORY,
            "sha256": sha256_hex(history),
            "head": state.last.hash,
            "entries": state.last.seq,
        },
    }
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def seal(
    signer: DetachedXadesSigner,
    manifest: bytes,
    history: bytes,
    *,
    timestamps: TimestampService | None = None,
    signing_time: datetime | None = None,
) -> bytes:
    """The book's seal over the manifest and the history (B-T when ``timestamps`` is given)."""
    objects = [
        DetachedObject(MANIFEST, manifest, "application/json", "bundle manifest"),
        DetachedObject(HISTORY, history, "application/json", "folder history"),
    ]
    signature = signer.sign(objects, commitment=PROOF_OF_ORIGIN, signing_time=signing_time)
    return add_signature_timestamp(signature, timestamps) if timestamps is not None else signature


def readme(state: FolderState, book: ParticipantId) -> bytes:
    definition = state.definition
    text = f"""govbus electronic signature book: bundle of a completed folder

Folder      {definition.id}
Title       {definition.title}
Type        {definition.business_type}
Submitter   {definition.submitter}
Book        {book}

Contents
  manifest.json   the folder, its documents and signatures, each with its SHA-256
  history.json    every action in order, each entry hash-linked to the one before
  seal.xml        the book's XAdES signature over manifest.json and history.json
  documents/      the documents as submitted
  signatures/     one detached XAdES signature per signatory, each over every document;
                  a substitute's signature names its principal ("on behalf of") in its signed properties

Verify offline with the bus CA certificate (from the bus authority, never from this file):
  govbus sign verify BUNDLE.zip --ca-cert ca-cert.pem [--crl crl.pem]
"""
    return text.encode("utf-8")


def zip_bytes(files: Mapping[str, bytes]) -> bytes:
    """A zip of ``files`` (stable order, fixed timestamps: the same folder gives the same bytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
    return buffer.getvalue()


def write_file(path: Path, data: bytes) -> Path:
    """Write ``data`` at ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


@dataclass(frozen=True, slots=True)
class BundleSignature:
    """One verified signature of a bundle."""

    path: str
    seq: int
    step: int
    signatory: ParticipantId
    on_behalf_of: ParticipantId | None
    signing_time: datetime
    level: str
    timestamp_time: datetime | None
    timestamp_authority: ParticipantId | None


@dataclass(frozen=True, slots=True)
class BundleReport:
    """What a verified bundle proves."""

    folder: str
    title: str
    business_type: str
    submitter: ParticipantId
    book: ParticipantId
    completed_at: datetime
    documents: tuple[DocumentRef, ...]
    signatures: tuple[BundleSignature, ...]
    history_entries: int
    seal_level: str
    seal_time: datetime | None
    revocation_checked: bool
    checked_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "valid": True,
            "folder": self.folder,
            "title": self.title,
            "businessType": self.business_type,
            "submitter": str(self.submitter),
            "book": str(self.book),
            "completedAt": format_timestamp(self.completed_at),
            "documents": [d.as_json() for d in self.documents],
            "signatures": [
                {
                    "path": s.path,
                    "step": s.step,
                    "signatory": str(s.signatory),
                    "onBehalfOf": str(s.on_behalf_of) if s.on_behalf_of else None,
                    "signingTime": format_timestamp(s.signing_time),
                    "level": s.level,
                    "timestamp": format_timestamp(s.timestamp_time) if s.timestamp_time else None,
                    "timestampAuthority": str(s.timestamp_authority) if s.timestamp_authority else None,
                }
                for s in self.signatures
            ],
            "historyEntries": self.history_entries,
            "seal": {
                "level": self.seal_level,
                "timestamp": format_timestamp(self.seal_time) if self.seal_time else None,
            },
            "revocationChecked": self.revocation_checked,
            "checkedAt": format_timestamp(self.checked_at),
        }


def _invalid(code: str, reason: str) -> BundleInvalid:
    return BundleInvalid(reason, code=code)


def _read_zip(path: Path) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise _invalid("Bundle.Malformed", f"{path} is not a readable zip: {error}") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_FILES:
            raise _invalid("Bundle.Malformed", f"more than {MAX_FILES} files")
        names = [info.filename for info in infos]
        if len(set(names)) != len(names):
            raise _invalid("Bundle.Malformed", "a file name appears twice")
        if sum(info.file_size for info in infos) > MAX_TOTAL_BYTES:
            raise _invalid("Bundle.Malformed", f"more than {MAX_TOTAL_BYTES} bytes uncompressed")
        files: dict[str, bytes] = {}
        for info in infos:
            name = info.filename
            if info.is_dir():
                continue
            if (
                name.startswith("/")
                or "\\" in name
                or any(part in ("", ".", "..") for part in name.split("/"))
            ):
                raise _invalid("Bundle.Malformed", f"unsafe file name {name!r}")
            try:
                with archive.open(info) as handle:
                    data = handle.read(info.file_size + 1)
            except (OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError) as error:
                raise _invalid("Bundle.Malformed", f"{name} cannot be read: {error}") from None
            if len(data) != info.file_size:
                raise _invalid("Bundle.Malformed", f"{name} is not the size its entry declares")
            files[name] = data
    return files


def _load_ca(ca_cert: Path | str | x509.Certificate) -> x509.Certificate:
    if isinstance(ca_cert, x509.Certificate):
        return ca_cert
    try:
        return x509.load_pem_x509_certificate(Path(ca_cert).read_bytes())
    except ValueError as error:
        raise _invalid("Bundle.Configuration", f"{ca_cert} is not a PEM certificate: {error}") from None


def _manifest(files: Mapping[str, bytes]) -> dict[str, Any]:
    for required in (MANIFEST, HISTORY, SEAL):
        if required not in files:
            raise _invalid("Bundle.MissingFile", f"the bundle has no {required}")
    try:
        manifest = json.loads(files[MANIFEST].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise _invalid("Bundle.Malformed", f"{MANIFEST}: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _invalid("Bundle.Malformed", f"{MANIFEST} is not a {FORMAT} manifest")
    return manifest


def verify_bundle(
    path: Path | str,
    ca_cert: Path | str | x509.Certificate,
    crl: Path | str | None = None,
    *,
    timestamp_authorities: Collection[ParticipantId] | None = None,
    at: datetime | None = None,
) -> BundleReport:
    """Verify a bundle offline, or raise ``BundleInvalid`` whose ``code`` names the broken rule.

    ``ca_cert`` is the bus CA certificate (PEM path or object); ``crl`` the bus CRL (PEM path): without
    it revocation is not checked (the report says so). Timestamps are accepted from
    ``timestamp_authorities``, by default from the authority the sealed manifest names. ``at`` is the
    moment B-B signatures are judged at (default now).
    """
    checked_at = at or utc_now()
    try:
        trust = TrustStore(_load_ca(ca_cert), Path(crl) if crl is not None else None)
    except Fault as fault:
        raise _invalid(str(fault.code), fault.reason) from None
    files = _read_zip(Path(path))
    manifest = _manifest(files)
    try:
        book = ParticipantId.parse(manifest.get("book"))
        declared_tsa = manifest.get("timestampAuthority")
        tsas = (
            frozenset(timestamp_authorities)
            if timestamp_authorities is not None
            else frozenset({ParticipantId.parse(declared_tsa)} if declared_tsa else ())
        )
    except Fault as fault:
        raise _invalid("Bundle.Malformed", f"{MANIFEST}: {fault.reason}") from None

    seal_check = _verify_seal(files, trust, book, checked_at, tsas)
    try:
        entries = parse_history(files[HISTORY])
        state = replay(entries)
    except SignatureBookError as error:
        raise _invalid("Bundle.BrokenHistory", error.reason) from None
    try:
        _check_manifest(manifest, state, files)
    except (AttributeError, KeyError, TypeError) as error:
        raise _invalid("Bundle.Malformed", f"{MANIFEST} is not shaped as expected: {error}") from None
    documents = {d.name: (d, files[document_uri(d.name)]) for d in state.definition.documents}
    signatures = tuple(
        _verify_signature(files, entry, documents, trust, book, state, checked_at, tsas)
        for entry in state.signatures()
    )
    listed = {MANIFEST, HISTORY, SEAL, README} | {document_uri(n) for n in documents}
    listed |= {s.path for s in signatures}
    extra = sorted(set(files) - listed)
    if extra:
        raise _invalid("Bundle.UnexpectedFile", f"files not covered by the manifest: {', '.join(extra)}")
    assert state.closed_at is not None
    return BundleReport(
        folder=state.id,
        title=state.definition.title,
        business_type=state.definition.business_type,
        submitter=state.definition.submitter,
        book=book,
        completed_at=state.closed_at,
        documents=state.definition.documents,
        signatures=signatures,
        history_entries=len(entries),
        seal_level=seal_check.level,
        seal_time=seal_check.timestamp.time if seal_check.timestamp else None,
        revocation_checked=crl is not None,
        checked_at=checked_at,
    )


def _verify_seal(
    files: Mapping[str, bytes],
    trust: TrustStore,
    book: ParticipantId,
    at: datetime,
    tsas: Collection[ParticipantId],
) -> Any:
    try:
        verified = verify_detached(
            files[SEAL],
            {MANIFEST: files[MANIFEST], HISTORY: files[HISTORY]},
            trust,
            at=at,
            timestamp_authorities=tsas,
        )
    except SignatureRefused as error:
        raise _invalid(error.code, f"{SEAL}: {error.reason}") from None
    if verified.signer.participant != book or verified.commitment != PROOF_OF_ORIGIN:
        raise _invalid("Bundle.InvalidSeal", f"{SEAL} is not the seal of {book}")
    return verified


def _check_manifest(manifest: Mapping[str, Any], state: FolderState, files: Mapping[str, bytes]) -> None:
    definition = state.definition
    if state.status is not FolderStatus.COMPLETED:
        raise _invalid("Bundle.NotCompleted", f"the history ends with the folder {state.status}")
    assert state.last is not None
    history = manifest.get("history") or {}
    expected = {
        "folder": definition.id,
        "title": definition.title,
        "businessType": definition.business_type,
        "submitter": str(definition.submitter),
        "status": str(state.status),
    }
    for key, value in expected.items():
        if manifest.get(key) != value:
            raise _invalid(
                "Bundle.Mismatch", f"manifest {key} {manifest.get(key)!r} differs from the history"
            )
    if history.get("head") != state.last.hash or history.get("sha256") != sha256_hex(files[HISTORY]):
        raise _invalid("Bundle.Mismatch", "the manifest does not name this history")
    listed = [
        {k: v for k, v in d.items() if k != "path"}
        for d in manifest.get("documents") or []
        if isinstance(d, dict)
    ]
    if listed != [d.as_json() for d in definition.documents]:
        raise _invalid("Bundle.Mismatch", "the manifest's documents differ from the submitted ones")
    for document in definition.documents:
        content = files.get(document_uri(document.name))
        if content is None:
            raise _invalid("Bundle.MissingFile", f"document {document.name} is missing")
        if hashlib.sha256(content).hexdigest() != document.sha256 or len(content) != document.size:
            raise _invalid(
                "Bundle.TamperedDocument", f"document {document.name} differs from the one submitted"
            )
    signed = {(s.seq, signature_path(s), s.signature) for s in state.signatures()}
    entries = manifest.get("signatures") or []
    listed_signatures = {
        (e.get("seq"), e.get("path"), e.get("sha256")) for e in entries if isinstance(e, dict)
    }
    if listed_signatures != signed or len(entries) != len(signed):
        raise _invalid("Bundle.Mismatch", "the manifest's signatures differ from the history's")


def _verify_signature(
    files: Mapping[str, bytes],
    entry: HistoryEntry,
    documents: Mapping[str, tuple[DocumentRef, bytes]],
    trust: TrustStore,
    book: ParticipantId,
    state: FolderState,
    at: datetime,
    tsas: Collection[ParticipantId],
) -> BundleSignature:
    path = signature_path(entry)
    data = files.get(path)
    if data is None:
        raise _invalid("Bundle.MissingFile", f"signature {path} is missing")
    if sha256_hex(data) != entry.signature:
        raise _invalid("Bundle.TamperedSignature", f"signature {path} differs from the one recorded")
    assert entry.step is not None
    try:
        signature = check_folder_signature(
            data,
            documents=documents,
            trust=trust,
            book=book,
            folder_id=state.id,
            step=entry.step,
            signatory=entry.actor,
            at=at,
            timestamp_authorities=tsas,
        )
    except SignatureRefused as error:
        raise _invalid(error.code, f"{path}: {error.reason}") from None
    if signature.on_behalf_of != entry.on_behalf_of:
        raise _invalid(
            "Bundle.Mismatch",
            f"{path} is signed for {signature.on_behalf_of}, recorded for {entry.on_behalf_of}",
        )
    verified = signature.verified
    moment = verified.timestamp.time if verified.timestamp else verified.signing_time
    if verified.signing_time > entry.at + CLOCK_SKEW:
        raise _invalid("Signature.SigningTime", f"{path} claims a signing time after the book recorded it")
    if entry.delegation is not None and not (
        entry.delegation.valid_from - CLOCK_SKEW <= moment <= entry.delegation.valid_until + CLOCK_SKEW
    ):
        raise _invalid("SignatureBook.InvalidDelegation", f"{path} was signed outside the delegation period")
    timestamp = verified.timestamp
    return BundleSignature(
        path=path,
        seq=entry.seq,
        step=entry.step,
        signatory=entry.actor,
        on_behalf_of=signature.on_behalf_of,
        signing_time=verified.signing_time,
        level=verified.level,
        timestamp_time=timestamp.time if timestamp else None,
        timestamp_authority=timestamp.authority if timestamp else None,
    )


def bundle_files(
    state: FolderState,
    book: ParticipantId,
    manifest: bytes,
    seal_xml: bytes,
    history: bytes,
    contents: Mapping[str, bytes],
) -> dict[str, bytes]:
    """Every file of a bundle; ``contents`` maps document names and signature paths to their bytes."""
    files = {README: readme(state, book), MANIFEST: manifest, HISTORY: history, SEAL: seal_xml}
    for document in state.definition.documents:
        files[document_uri(document.name)] = contents[document_uri(document.name)]
    for entry in state.signatures():
        files[signature_path(entry)] = contents[signature_path(entry)]
    return files
