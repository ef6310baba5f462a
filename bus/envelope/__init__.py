"""The signed XML envelope: model, codec, signer, verifier, replay protection."""

from bus.envelope.model import Header, MessageKind
from bus.envelope.signer import sign_envelope
from bus.envelope.verifier import EnvelopeVerifier, VerificationPolicy, VerifiedEnvelope

__all__ = [
    "EnvelopeVerifier",
    "Header",
    "MessageKind",
    "VerificationPolicy",
    "VerifiedEnvelope",
    "sign_envelope",
]
