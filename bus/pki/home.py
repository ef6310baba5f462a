"""On-disk layout of a bus home (``--home DIR``, default ``$GOVBUS_HOME``).

::

    DIR/
      ca/ca-cert.pem            the bus CA certificate (every participant has it)
      ca/crl.pem                the current certificate revocation list (every participant has it)
      ca/ca-key.pem             the CA private key, mode 0600 (only the bus authority's copy)
      ca/registry.json          every certificate issued: serial, participant, validity, revocation
      participants/<ID>/key.pem   a participant's signing key, mode 0600 (only on its own machines)
      participants/<ID>/cert.pem  its certificate
      participants/<ID>/enc-key.pem   its RSA encryption key, mode 0600 (only on its own machines)
      participants/<ID>/enc-cert.pem  its encryption certificate (senders of confidential services read it)
      participants/<ID>/...       its other state (message log, stores) kept by higher layers
      broker/key.pem, broker/cert.pem   the broker's TLS server key (0600) and certificate (issuer: bus CA)
      broker/passwords/<ID>      a participant's broker password (0600; written by ``broker provision``)

``<ID>`` is the participant id with ``/`` written as ``+`` (``MA+GOV+CNSS+attestations``), a character
identifiers never contain, so the mapping is reversible.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bus.ids import ParticipantId

HOME_ENV = "GOVBUS_HOME"


@dataclass(frozen=True, slots=True)
class BusHome:
    """Paths inside one bus home directory."""

    root: Path

    @classmethod
    def at(cls, root: str | os.PathLike[str] | None) -> BusHome:
        """The home at ``root``, or at ``$GOVBUS_HOME`` when ``root`` is None."""
        if root is None:
            env = os.environ.get(HOME_ENV)
            if not env:
                raise ValueError(f"no bus home given: pass --home DIR or set {HOME_ENV}")
            root = env
        return cls(Path(root).expanduser().resolve())

    @property
    def ca_dir(self) -> Path:
        return self.root / "ca"

    @property
    def ca_cert(self) -> Path:
        return self.ca_dir / "ca-cert.pem"

    @property
    def ca_key(self) -> Path:
        return self.ca_dir / "ca-key.pem"

    @property
    def crl(self) -> Path:
        return self.ca_dir / "crl.pem"

    @property
    def registry(self) -> Path:
        return self.ca_dir / "registry.json"

    def participant_dir(self, participant: ParticipantId) -> Path:
        return self.root / "participants" / str(participant).replace("/", "+")

    @property
    def broker_dir(self) -> Path:
        return self.root / "broker"

    @property
    def broker_key(self) -> Path:
        return self.broker_dir / "key.pem"

    @property
    def broker_cert(self) -> Path:
        return self.broker_dir / "cert.pem"

    def broker_password(self, participant: ParticipantId) -> Path:
        return self.broker_dir / "passwords" / str(participant).replace("/", "+")

    def participant_key(self, participant: ParticipantId) -> Path:
        return self.participant_dir(participant) / "key.pem"

    def participant_cert(self, participant: ParticipantId) -> Path:
        return self.participant_dir(participant) / "cert.pem"

    def participant_encryption_key(self, participant: ParticipantId) -> Path:
        return self.participant_dir(participant) / "enc-key.pem"

    def participant_encryption_cert(self, participant: ParticipantId) -> Path:
        return self.participant_dir(participant) / "enc-cert.pem"


def write_private(path: Path, data: bytes) -> None:
    """Write a secret file created with mode 0600 from the start (never world-readable, even briefly).

    The temporary file is always a new file: a leftover one (with other permissions) or a symbolic link
    planted in its place is removed first, never written through.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)


def write_public(path: Path, data: bytes) -> None:
    """Write a public file atomically (readers never see half a certificate or CRL)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
