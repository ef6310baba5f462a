"""The signed XML envelope: model, codec, signer, verifier, replay protection."""

from bus.envelope.model import Header, MessageKind
from bus.envelope.signer import sign_envelope
from bus.envelope.subject import DataSubject, SubjectKind
from bus.envelope.verifier import EnvelopeVerifier, VerificationPolicy, VerifiedEnvelope

__all__ = [
    "DataSubject",
    "EnvelopeVerifier",
    "Header",
    "MessageKind",
    "SubjectKind",
    "VerificationPolicy",
    "VerifiedEnvelope",
    "sign_envelope",
]
