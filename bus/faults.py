"""Fault codes: every way a message can be refused, each with one documented code.

Codes follow X-Road's convention: ``Client.*`` when the sender (or the message it sent) is at fault,
``Server.*`` when the receiving side or the bus failed. The catalogue with explanations is
docs/faults.md; a test keeps the two in step.
"""

from __future__ import annotations

from enum import StrEnum


class FaultCode(StrEnum):
    """The closed set of fault codes govbus emits."""

    # Parsing: checked before anything else.
    OVERSIZED_MESSAGE = "Client.OversizedMessage"
    MALFORMED_MESSAGE = "Client.MalformedMessage"
    FORBIDDEN_XML = "Client.ForbiddenXml"
    UNSUPPORTED_ENCODING = "Client.UnsupportedEncoding"
    XML_LIMIT_EXCEEDED = "Client.XmlLimitExceeded"
    SCHEMA_VIOLATION = "Client.SchemaViolation"
    # Signature shape and cryptography.
    SIGNATURE_PLACEMENT = "Client.SignaturePlacement"
    INVALID_REFERENCE = "Client.InvalidReference"
    DISALLOWED_ALGORITHM = "Client.DisallowedAlgorithm"
    INVALID_SIGNATURE = "Client.InvalidSignature"
    # The signer's certificate.
    UNTRUSTED_CERTIFICATE = "Client.UntrustedCertificate"
    EXPIRED_CERTIFICATE = "Client.ExpiredCertificate"
    CERTIFICATE_NOT_FOR_SIGNING = "Client.CertificateNotForSigning"
    REVOKED_CERTIFICATE = "Client.RevokedCertificate"
    SENDER_MISMATCH = "Client.SenderMismatch"
    # Time and uniqueness.
    EXPIRED = "Client.Expired"
    ISSUED_IN_FUTURE = "Client.IssuedInFuture"
    REPLAY = "Client.Replay"
    # Addressing, access and payload (SDK level).
    INVALID_IDENTIFIER = "Client.InvalidIdentifier"
    UNKNOWN_SERVICE = "Client.UnknownService"
    ACCESS_DENIED = "Client.AccessDenied"
    PAYLOAD_SCHEMA_VIOLATION = "Client.PayloadSchemaViolation"
    WRONG_RECIPIENT = "Client.WrongRecipient"
    INVALID_REPLY_ADDRESS = "Client.InvalidReplyAddress"
    CONTRACT_MISMATCH = "Client.ContractMismatch"
    PERSONAL_DATA_UNDECLARED = "Client.PersonalDataUndeclared"
    # Confidential services (encrypted payloads).
    ENCRYPTION_REQUIRED = "Client.EncryptionRequired"
    DECRYPTION_FAILED = "Client.DecryptionFailed"
    NO_ENCRYPTION_CERTIFICATE = "Client.NoEncryptionCertificate"
    # The bus authority.
    CERTIFICATE_REQUEST_REFUSED = "Client.CertificateRequestRefused"
    # Faults of the answering side or of the bus.
    RESPONSE_MISMATCH = "Server.ResponseMismatch"
    HANDLER_ERROR = "Server.HandlerError"
    TIMEOUT = "Server.Timeout"
    UNROUTABLE = "Server.Unroutable"
    BROKER_UNAVAILABLE = "Server.BrokerUnavailable"
    PUBLISH_REJECTED = "Server.PublishRejected"
    CATALOGUE_INVALID = "Server.CatalogueInvalid"
    CONFIGURATION_INVALID = "Server.ConfigurationInvalid"
    CONFIGURATION_EXPIRED = "Server.ConfigurationExpired"
    CONFIGURATION_ROLLBACK = "Server.ConfigurationRollback"
    REVOCATION_LIST_EXPIRED = "Server.RevocationListExpired"


class Fault(Exception):
    """A refused message or failed exchange, carrying its fault code and a human-readable reason."""

    def __init__(self, code: FaultCode, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason

    def __reduce__(self) -> tuple[type[Fault], tuple[FaultCode, str]]:
        return type(self), (self.code, self.reason)
