"""Evidence bundles: a zip an auditor verifies offline, with govbus or with xmlsec1 and openssl.

Layout (``govbus-audit-bundle/1``)::

    README.txt                      how to verify, with the exact commands for this bundle
    manifest.json                   the records (all hashed fields), the chain proof, the checkpoint, file digests
    envelopes/<seq>-<dir>-<kind>.xml   stored envelopes, byte for byte (.bin: rejected bytes as received)
    certificates/ca-cert.pem        the bus CA certificate (pin your own copy when verifying)
    certificates/crl.pem            the CRL, when the exporter had one
    certificates/<participant>-<serial>.pem   the certificates of the envelopes' signers
    checkpoint/checkpoint.txt       the exact bytes the checkpoint signature covers
    checkpoint/checkpoint.sig       the signature (ECDSA DER or RSA PKCS#1 v1.5, SHA-256)
    checkpoint/signer.pem           the certificate of the participant that signed the checkpoint
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from bus.audit.checkpoint import Checkpoint, verify_checkpoint
from bus.audit.errors import AuditError
from bus.audit.evidence import EnvelopeStatus, Evidence
from bus.audit.proof import ChainProof, check_proof
from bus.audit.record import HASHED_FIELDS, UNVERIFIED_OUTCOMES, LogMode, Record
from bus.audit.trustfiles import TrustFiles
from bus.audit.verify import check_envelope
from bus.envelope import EnvelopeVerifier
from bus.envelope.model import format_timestamp, parse_timestamp, utc_now
from bus.faults import Fault

BUNDLE_FORMAT = "govbus-audit-bundle/1"
MANIFEST = "manifest.json"
README = "README.txt"
CA_FILE = "certificates/ca-cert.pem"
CRL_FILE = "certificates/crl.pem"
CHECKPOINT_TEXT = "checkpoint/checkpoint.txt"
CHECKPOINT_SIGNATURE = "checkpoint/checkpoint.sig"
CHECKPOINT_SIGNER = "checkpoint/signer.pem"
MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 512 * 1024 * 1024
_MEMBER_NAME = re.compile(r"[A-Za-z0-9._+-]+(/[A-Za-z0-9._+-]+)*")


def _pem(der: bytes) -> bytes:
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)


def _certificate_name(der: bytes) -> str:
    cert = x509.load_der_x509_certificate(der)
    names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    who = str(names[0].value).replace("/", "+") if names else "unknown"
    return f"certificates/{who}-{cert.serial_number:x}.pem"


def _envelope_name(record: Record) -> str:
    if record.outcome in UNVERIFIED_OUTCOMES:
        return f"envelopes/{record.seq:010d}-{record.direction}-{record.outcome}.bin"
    return f"envelopes/{record.seq:010d}-{record.direction}-{record.kind or 'unknown'}.xml"


def _gmt(recorded_at: str) -> str:
    return parse_timestamp(recorded_at).strftime("%Y-%m-%d %H:%M:%S")


def export_bundle(evidence: Evidence, out: Path, *, trust: TrustFiles) -> list[str]:
    """Write ``evidence`` as a bundle at ``out``; return the member names. Refuses evidence that does not verify."""
    if evidence.proof is None or not evidence.ok:
        problems = [
            *evidence.chain_problems,
            *([evidence.not_covered] if evidence.not_covered else []),
            *(f"record {r.record.seq}: {r.detail}" for r in evidence.records if not r.ok),
        ]
        raise AuditError("the evidence does not verify, no bundle written: " + "; ".join(problems))
    proof = evidence.proof
    files: dict[str, bytes] = {CA_FILE: trust.ca_cert.read_bytes()}
    if trust.crl is not None:
        files[CRL_FILE] = trust.crl.read_bytes()
    checkpoint = proof.checkpoint
    files[CHECKPOINT_TEXT] = checkpoint.signed_bytes()
    files[CHECKPOINT_SIGNATURE] = checkpoint.signature
    files[CHECKPOINT_SIGNER] = _pem(checkpoint.certificate_der)
    entries: list[dict[str, Any]] = []
    commands: list[str] = []
    for item in evidence.records:
        record = item.record
        entry = record.as_json()
        entry["file"] = None
        entry["signer_certificate"] = None
        entry["status"] = str(item.envelope)
        if record.raw is not None:
            name = _envelope_name(record)
            files[name] = bytes(record.raw)
            entry["file"] = name
            if item.envelope is EnvelopeStatus.VALID:
                commands.append(
                    "xmlsec1 --verify --trusted-pem certificates/ca-cert.pem --enabled-key-data x509 "
                    f'--enabled-reference-uris empty --verification-gmt-time "{_gmt(record.recorded_at)}" {name}'
                )
        if item.signer_der is not None:
            certificate = _certificate_name(item.signer_der)
            files[certificate] = _pem(item.signer_der)
            entry["signer_certificate"] = certificate
        entries.append(entry)
    files[README] = _readme(evidence, commands).encode("utf-8")
    manifest = {
        "format": BUNDLE_FORMAT,
        "participant": evidence.meta.participant,
        "log": evidence.meta.log_id,
        "message": evidence.message_id,
        "exported_at": format_timestamp(utc_now()),
        "records": entries,
        "proof": proof.as_json(),
        "checkpoint": {
            "participant": checkpoint.participant,
            "log": checkpoint.log_id,
            "sequence": checkpoint.seq,
            "head": checkpoint.head,
            "time": checkpoint.time,
            "algorithm": checkpoint.algorithm,
            "signed_file": CHECKPOINT_TEXT,
            "signature_file": CHECKPOINT_SIGNATURE,
            "certificate_file": CHECKPOINT_SIGNER,
        },
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2) + "\n")
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    tmp.replace(out)
    return [MANIFEST, *sorted(files)]


def _readme(evidence: Evidence, commands: list[str]) -> str:
    assert evidence.proof is not None
    checkpoint = evidence.proof.checkpoint
    epoch = int(checkpoint.moment.timestamp())
    lines = [
        f"govbus evidence bundle ({BUNDLE_FORMAT})",
        "",
        f"Message {evidence.message_id} in the message log {evidence.meta.log_id} of {evidence.meta.participant}:",
        f"{len(evidence.records)} record(s), proven up to the checkpoint signed at record {checkpoint.seq} "
        f"({checkpoint.time}).",
        "",
        "1. Everything at once (records, chain proof, checkpoint, envelope signatures, revocation):",
        "",
        "   govbus audit verify-bundle THIS.zip --ca-cert YOUR-OWN-COPY-OF/ca-cert.pem",
        "",
        "   Pin the CA certificate you obtained from the bus authority; without --ca-cert the one inside",
        "   the bundle is used, which proves consistency but not origin.",
        "",
        "2. By hand, after unzipping. Check that certificates/ca-cert.pem is the bus CA you trust, then:",
        "",
        "   The envelopes (XML-DSig; xmlsec1 1.2.37 does not read CRLs: revocation is checked by step 1):",
        "",
        *[f"   {command}" for command in commands],
        "",
        "   The checkpoint signature and its signer:",
        "",
        f"   openssl verify -CAfile certificates/ca-cert.pem -attime {epoch} {CHECKPOINT_SIGNER}",
        f"   openssl x509 -in {CHECKPOINT_SIGNER} -pubkey -noout > signer-pub.pem",
        f"   openssl dgst -sha256 -verify signer-pub.pem -signature {CHECKPOINT_SIGNATURE} {CHECKPOINT_TEXT}",
        "",
        "   The chain: for each record in manifest.json, encode its hashed fields as docs/audit-log.md",
        "   specifies, SHA-256 them (the record digest), and check that the digest is the one listed in",
        "   proof.digests at position (seq - proof.start_seq - 1). Then, from h = proof.start_hash, compute",
        '   h = SHA-256("govbus-audit-chain/1\\n" || h || digest) over every digest in order (raw 32-byte',
        "   values): the result must be the head in checkpoint/checkpoint.txt. Each envelope file's SHA-256",
        "   must be its record's stored_sha256 (and sha256 when the whole message was kept).",
        "",
        "Records in metadata mode carry no envelope: their signature cannot be re-checked. Rejected records",
        "carry the bytes as received (possibly cut at the log's cap): they are not expected to verify.",
    ]
    return "\n".join(lines) + "\n"


@dataclass(slots=True)
class BundleReport:
    """What ``verify_bundle`` found."""

    participant: str | None = None
    log_id: str | None = None
    message_id: str | None = None
    records: int = 0
    envelopes_verified: int = 0
    checkpoint_seq: int | None = None
    ca_from_bundle: bool = False
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {
            "result": "ok" if self.ok else "invalid",
            "participant": self.participant,
            "log": self.log_id,
            "message": self.message_id,
            "records": self.records,
            "envelopes_verified": self.envelopes_verified,
            "checkpoint_seq": self.checkpoint_seq,
            "ca_from_bundle": self.ca_from_bundle,
            "warnings": self.warnings,
            "problems": self.problems,
        }


def _read_members(path: Path) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise AuditError(f"{path}: not a readable zip file ({error})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise AuditError(f"{path}: more than {MAX_MEMBERS} files")
        total = 0
        members: dict[str, bytes] = {}
        for info in infos:
            if info.is_dir():
                continue
            if not _MEMBER_NAME.fullmatch(info.filename) or ".." in info.filename.split("/"):
                raise AuditError(f"{path}: refusing member name {info.filename!r}")
            if info.filename in members:
                raise AuditError(f"{path}: member {info.filename} appears twice")
            if info.file_size > MAX_MEMBER_BYTES or total + info.file_size > MAX_TOTAL_BYTES:
                raise AuditError(f"{path}: member {info.filename} is too large")
            with archive.open(info) as handle:
                data = handle.read(MAX_MEMBER_BYTES + 1)
            if len(data) > MAX_MEMBER_BYTES:
                raise AuditError(f"{path}: member {info.filename} is too large")
            total += len(data)
            members[info.filename] = data
    return members


def verify_bundle(path: Path, trust: TrustFiles | None = None) -> BundleReport:
    """Verify a bundle offline. Without ``trust`` the bundle's own CA certificate (and CRL) is used."""
    report = BundleReport()
    members = _read_members(path)
    try:
        manifest = json.loads(members[MANIFEST])
    except (KeyError, ValueError) as error:
        report.problems.append(f"no readable {MANIFEST} ({error})")
        return report
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        report.problems.append(f"{MANIFEST} is not a {BUNDLE_FORMAT} manifest")
        return report
    report.participant = manifest.get("participant")
    report.log_id = manifest.get("log")
    report.message_id = manifest.get("message")
    _check_files(manifest, members, report)
    with tempfile.TemporaryDirectory(prefix="govbus-bundle-") as scratch:
        trust = _trust_for(trust, members, Path(scratch), report)
        if trust is None:
            return report
        try:
            _check_contents(manifest, members, trust, report)
        except (KeyError, TypeError, ValueError) as error:
            report.problems.append(f"{MANIFEST} is malformed: {error!r}")
    return report


def _check_files(manifest: dict[str, Any], members: dict[str, bytes], report: BundleReport) -> None:
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        report.problems.append(f"{MANIFEST} lists no file digests")
        return
    for name, digest in sorted(listed.items()):
        data = members.get(name)
        if data is None:
            report.problems.append(f"{name} is listed but missing")
        elif hashlib.sha256(data).hexdigest() != digest:
            report.problems.append(f"{name} was changed (its SHA-256 is not the one listed)")
    for name in sorted(set(members) - set(listed) - {MANIFEST}):
        report.problems.append(f"{name} is in the bundle but not listed in {MANIFEST}")


def _trust_for(
    trust: TrustFiles | None, members: dict[str, bytes], scratch: Path, report: BundleReport
) -> TrustFiles | None:
    crl: Path | None = trust.crl if trust is not None else None
    if crl is None and CRL_FILE in members:
        crl = scratch / "crl.pem"
        crl.write_bytes(members[CRL_FILE])
    if trust is None:
        if CA_FILE not in members:
            report.problems.append(f"no --ca-cert given and no {CA_FILE} in the bundle")
            return None
        report.ca_from_bundle = True
        report.warnings.append(
            f"trusting the CA certificate inside the bundle: pass --ca-cert to pin the bus CA you trust "
            f"(bundle CA SHA-256 fingerprint {_fingerprint(members[CA_FILE])})"
        )
        ca = scratch / "ca-cert.pem"
        ca.write_bytes(members[CA_FILE])
        trust = TrustFiles(ca, crl)
    else:
        trust = TrustFiles(trust.ca_cert, crl)
    if trust.crl is None:
        report.warnings.append("no CRL: revocation was not checked")
    try:
        trust.store()
    except Fault as fault:
        report.problems.append(f"{fault.code}: {fault.reason}")
        return None
    return trust


def _fingerprint(pem: bytes) -> str:
    try:
        return x509.load_pem_x509_certificate(pem).fingerprint(hashes.SHA256()).hex()
    except ValueError:
        return "unreadable"


def _record(entry: dict[str, Any], raw: bytes | None) -> Record:
    values = {name: entry[name] for name in HASHED_FIELDS}
    return Record(**values, raw=raw, hash=entry.get("hash"))


def _check_contents(
    manifest: dict[str, Any], members: dict[str, bytes], trust: TrustFiles, report: BundleReport
) -> None:
    described = manifest["checkpoint"]
    certificate = x509.load_pem_x509_certificate(members[CHECKPOINT_SIGNER])
    checkpoint = Checkpoint(
        participant=described["participant"],
        log_id=described["log"],
        seq=described["sequence"],
        head=described["head"],
        time=described["time"],
        algorithm=described["algorithm"],
        signature=members[CHECKPOINT_SIGNATURE],
        certificate_der=certificate.public_bytes(serialization.Encoding.DER),
    )
    report.checkpoint_seq = checkpoint.seq
    if (checkpoint.participant, checkpoint.log_id) != (report.participant, report.log_id):
        report.problems.append("the checkpoint is about another log than the manifest")
    if members.get(CHECKPOINT_TEXT) != checkpoint.signed_bytes():
        report.problems.append(f"{CHECKPOINT_TEXT} is not the checkpoint the manifest describes")
    trust_store = trust.store()
    try:
        verify_checkpoint(checkpoint, trust_store)
    except Fault as fault:
        report.problems.append(f"the checkpoint is not valid: {fault.code}: {fault.reason}")
    proof_data = manifest["proof"]
    proof = ChainProof(
        start_seq=proof_data["start_seq"],
        start_hash=proof_data["start_hash"],
        digests=tuple(proof_data["digests"]),
        checkpoint=checkpoint,
    )
    records: dict[int, Record] = {}
    for entry in manifest["records"]:
        name = entry.get("file")
        raw = members.get(name) if name else None
        if name and raw is None:
            report.problems.append(f"record {entry.get('seq')}: its envelope file {name} is missing")
        record = _record(entry, raw)
        records[record.seq] = record
    report.records = len(records)
    report.problems.extend(check_proof(proof, records))
    if not any(report.message_id in (r.message_id, r.correlation_id) for r in records.values()):
        report.problems.append(f"no record in the bundle is about message {report.message_id}")
    verifier = EnvelopeVerifier(trust_store)
    for record in records.values():
        _check_record(record, verifier, report)


def _check_record(record: Record, verifier: EnvelopeVerifier, report: BundleReport) -> None:
    raw = record.raw
    if record.mode == LogMode.METADATA:
        if raw is not None:
            report.problems.append(f"record {record.seq}: metadata mode, yet an envelope file is included")
        return
    if raw is None:
        report.problems.append(f"record {record.seq}: full mode but no envelope file")
        return
    if len(raw) != record.stored_size or hashlib.sha256(raw).hexdigest() != record.stored_sha256:
        report.problems.append(f"record {record.seq}: the envelope file is not the stored bytes (changed)")
        return
    if record.outcome in UNVERIFIED_OUTCOMES:
        return
    if record.truncated:
        report.problems.append(f"record {record.seq}: a {record.outcome} message was not kept whole")
        return
    if record.sha256 != record.stored_sha256:
        report.problems.append(f"record {record.seq}: the message digest is not the stored bytes' digest")
        return
    problem, _ = check_envelope(verifier, record, report.participant or "")
    report.envelopes_verified += 1
    if problem is not None:
        report.problems.append(problem.message)
