"""Signed checkpoints of a log's chain head: (participant, log, sequence, head hash, time), signed detached.

The signed bytes are UTF-8 text, one ``name=value`` line each, every line ending with LF::

    govbus-audit-checkpoint/1
    participant=MA/GOV/CNSS/attestations
    log=6f1c2a4e-0b7d-4c59-9d0e-3f7a1b2c4d5e
    sequence=1000
    head=<64 lower-case hex digits: hash(sequence), or the base hash when sequence is the log's base>
    time=2026-11-21T10:15:30.123Z

The signature is ECDSA P-256 with SHA-256 (DER-encoded, as ``openssl dgst -sha256 -sign`` writes it) or
RSA PKCS#1 v1.5 with SHA-256, by the participant's bus certificate, which travels with the checkpoint.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from bus.envelope.model import format_timestamp, parse_timestamp
from bus.faults import Fault, FaultCode
from bus.pki import SigningIdentity, TrustedSigner, TrustStore

CHECKPOINT_HEADER = "govbus-audit-checkpoint/1"
ECDSA_SHA256 = "ecdsa-sha256"
RSA_SHA256 = "rsa-sha256"
ALGORITHMS = frozenset({ECDSA_SHA256, RSA_SHA256})
_HEX64 = re.compile(r"[0-9a-f]{64}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def checkpoint_bytes(participant: str, log_id: str, seq: int, head: str, time: str) -> bytes:
    """The exact bytes a checkpoint signature covers."""
    lines = [
        CHECKPOINT_HEADER,
        f"participant={participant}",
        f"log={log_id}",
        f"sequence={seq}",
        f"head={head}",
        f"time={time}",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement: "the log ``log_id`` of ``participant`` had head ``head`` at ``seq`` at ``time``"."""

    participant: str
    log_id: str
    seq: int
    head: str
    time: str
    algorithm: str
    signature: bytes
    certificate_der: bytes

    def signed_bytes(self) -> bytes:
        """The bytes the signature covers."""
        return checkpoint_bytes(self.participant, self.log_id, self.seq, self.head, self.time)

    @property
    def moment(self) -> datetime:
        """``time`` as a datetime."""
        return parse_timestamp(self.time)


class CheckpointSigner:
    """Signs checkpoints with a participant's key (parsed once)."""

    def __init__(self, identity: SigningIdentity) -> None:
        self.identity = identity
        key = identity.private_key()  # on a PKCS#11 token, it signs there
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise ValueError(f"{identity.participant}: checkpoints are signed with an EC or RSA key")
        self._key = key
        self.algorithm = RSA_SHA256 if isinstance(key, rsa.RSAPrivateKey) else ECDSA_SHA256

    def sign(self, log_id: str, seq: int, head: str, moment: datetime) -> Checkpoint:
        """A checkpoint of ``head`` at ``seq``, signed now with the time ``moment``."""
        participant = str(self.identity.participant)
        time = format_timestamp(moment)
        data = checkpoint_bytes(participant, log_id, seq, head, time)
        if isinstance(self._key, rsa.RSAPrivateKey):
            signature = self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        else:
            signature = self._key.sign(data, ec.ECDSA(hashes.SHA256()))
        return Checkpoint(
            participant=participant,
            log_id=log_id,
            seq=seq,
            head=head,
            time=time,
            algorithm=self.algorithm,
            signature=signature,
            certificate_der=self.identity.certificate_der,
        )


def check_fields(checkpoint: Checkpoint) -> None:
    """Raise ``Client.MalformedMessage`` when a field is outside its format."""
    problems = []
    try:
        uuid.UUID(checkpoint.log_id)
    except (ValueError, TypeError, AttributeError):
        problems.append(f"log {checkpoint.log_id!r} is not a UUID")
    if not isinstance(checkpoint.seq, int) or isinstance(checkpoint.seq, bool) or checkpoint.seq < 0:
        problems.append(f"sequence {checkpoint.seq!r} is not a non-negative integer")
    if not isinstance(checkpoint.head, str) or not _HEX64.fullmatch(checkpoint.head):
        problems.append("head is not 64 lower-case hex digits")
    if not isinstance(checkpoint.time, str) or not _TIME.fullmatch(checkpoint.time):
        problems.append(f"time {checkpoint.time!r} is not UTC with milliseconds")
    if checkpoint.algorithm not in ALGORITHMS:
        problems.append(f"algorithm {checkpoint.algorithm!r} is not one of {', '.join(sorted(ALGORITHMS))}")
    if problems:
        raise Fault(FaultCode.MALFORMED_MESSAGE, "checkpoint: " + "; ".join(problems))


def verify_checkpoint(checkpoint: Checkpoint, trust: TrustStore) -> TrustedSigner:
    """Return the signer of a valid checkpoint, or raise the ``Fault`` that refuses it.

    The certificate must chain to the bus CA and be valid and unrevoked at the checkpoint's time, its
    participant must be the checkpoint's, and the signature must cover ``signed_bytes()``.
    """
    check_fields(checkpoint)
    signer = trust.check(checkpoint.certificate_der, at=checkpoint.moment)
    if str(signer.participant) != checkpoint.participant:
        raise Fault(
            FaultCode.SENDER_MISMATCH,
            f"checkpoint of {checkpoint.participant} is signed by {signer.participant}",
        )
    key = signer.certificate.public_key()
    data = checkpoint.signed_bytes()
    try:
        if isinstance(key, rsa.RSAPublicKey) and checkpoint.algorithm == RSA_SHA256:
            key.verify(checkpoint.signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey) and checkpoint.algorithm == ECDSA_SHA256:
            key.verify(checkpoint.signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            raise Fault(
                FaultCode.DISALLOWED_ALGORITHM,
                f"checkpoint algorithm {checkpoint.algorithm} does not match the signer's key",
            )
    except InvalidSignature:
        raise Fault(
            FaultCode.INVALID_SIGNATURE,
            f"checkpoint signature of {checkpoint.participant} at sequence {checkpoint.seq} does not verify",
        ) from None
    return signer
