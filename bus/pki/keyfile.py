"""Private keys at rest: PKCS#8 PEM files, encrypted with a passphrase when their owner wants it.

A key encrypted at rest is decrypted once, in memory, when a participant loads it. The passphrase comes
from the caller, or from ``$GOVBUS_KEY_PASSPHRASE_FILE`` (the first line of that file) or
``$GOVBUS_KEY_PASSPHRASE``.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

PASSPHRASE_ENV = "GOVBUS_KEY_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret
PASSPHRASE_FILE_ENV = "GOVBUS_KEY_PASSPHRASE_FILE"  # noqa: S105 - a variable name


def key_pem(key: PrivateKey, passphrase: bytes | None) -> bytes:
    """PKCS#8 PEM of ``key``, encrypted with ``passphrase`` (the library's best available scheme) if given."""
    protection: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, protection)


def load_key(data: bytes, passphrase: bytes | None, *, where: str) -> PrivateKey:
    """A private key from PEM, encrypted or not; ValueError naming ``where`` when it cannot be read."""
    encrypted = b"ENCRYPTED PRIVATE KEY" in data
    if encrypted and not passphrase:
        raise ValueError(
            f"{where} is encrypted: give its passphrase ({PASSPHRASE_FILE_ENV} or {PASSPHRASE_ENV})"
        )
    try:
        key = serialization.load_pem_private_key(
            data, password=passphrase if encrypted else None, unsafe_skip_rsa_key_validation=True
        )
    except (ValueError, TypeError) as error:
        hint = "wrong passphrase or damaged key" if encrypted else str(error)
        raise ValueError(f"{where} cannot be read: {hint}") from None
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise ValueError(f"{where} is neither an ECDSA nor an RSA key")
    return key


def plain_pem(data: bytes, passphrase: bytes | None, *, where: str) -> bytes:
    """Unencrypted PKCS#8 PEM (held in memory only) of a key file that may be encrypted at rest."""
    if b"ENCRYPTED PRIVATE KEY" not in data:
        return data
    return key_pem(load_key(data, passphrase, where=where), None)


def passphrase_from_environment() -> bytes | None:
    """The key passphrase from ``$GOVBUS_KEY_PASSPHRASE_FILE`` (its first line) or ``$GOVBUS_KEY_PASSPHRASE``."""
    path = os.environ.get(PASSPHRASE_FILE_ENV)
    if path:
        lines = Path(path).read_bytes().splitlines()
        return lines[0] if lines else None
    value = os.environ.get(PASSPHRASE_ENV)
    return value.encode() if value else None
