"""A signatory's signature on a folder: what it signs, how it is made, and how the book checks it.

A folder signature is a detached XAdES signature over every document of the folder (URIs
``documents/NAME``) with the commitment ProofOfApproval. Its CommitmentTypeQualifier is a
``SigningContext`` naming the book, folder, step, signatory and, for a substitute, the principal
(``onBehalfOf``); a substitute's signature also claims the role ``on behalf of PRINCIPAL``
(``SignerRole/ClaimedRoles``). All of it is in the SignedProperties, so it is signed: a signature
cannot be moved to another folder, step or principal.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

import pydantic

from teleservices.signature_book._bus import ParticipantId, TrustStore
from teleservices.signature_book.errors import SignatureRefused
from teleservices.signature_book.history import DocumentRef, sha256_hex
from teleservices.signature_book.models import DocumentInfo, SigningContext, SigningRequest
from teleservices.signature_book.xades import (
    PROOF_OF_APPROVAL,
    DetachedObject,
    DetachedXadesSigner,
    VerifiedSignature,
    verify_detached,
)

ON_BEHALF_OF = "on behalf of "


def document_uri(name: str) -> str:
    """Where a document sits in a bundle, and the URI its signatures reference."""
    return f"documents/{name}"


def claimed_roles(on_behalf_of: ParticipantId | str | None) -> tuple[str, ...]:
    return (f"{ON_BEHALF_OF}{on_behalf_of}",) if on_behalf_of else ()


def sign_request(
    signer: DetachedXadesSigner,
    request: SigningRequest,
    contents: Mapping[str, bytes],
    *,
    signing_time: datetime | None = None,
) -> bytes:
    """The signatory's side: sign the documents of ``request`` (their bytes in ``contents`` by name)."""
    if str(signer.participant) != request.signatory:
        raise SignatureRefused(f"this request is for {request.signatory}, not {signer.participant}")
    objects = []
    for document in request.documents:
        content = contents.get(document.name)
        if content is None or sha256_hex(content) != document.sha256:
            raise SignatureRefused(f"document {document.name} is missing or differs from the one to sign")
        objects.append(
            DetachedObject(
                document_uri(document.name),
                content,
                document.mime_type,
                document.description or document.name,
            )
        )
    context = SigningContext(
        book=request.book,
        folder_id=request.folder_id,
        step=request.step,
        signatory=request.signatory,
        on_behalf_of=request.on_behalf_of,
    )
    return signer.sign(
        objects,
        commitment=PROOF_OF_APPROVAL,
        qualifier=context.to_xml_tree(),
        claimed_roles=claimed_roles(request.on_behalf_of),
        signing_time=signing_time,
    )


@dataclass(frozen=True, slots=True)
class FolderSignature:
    """A verified folder signature and the context it signed."""

    verified: VerifiedSignature
    context: SigningContext

    @property
    def signatory(self) -> ParticipantId:
        return self.verified.signer.participant

    @property
    def on_behalf_of(self) -> ParticipantId | None:
        return ParticipantId.parse(self.context.on_behalf_of) if self.context.on_behalf_of else None


def _wrong(code: str, reason: str) -> SignatureRefused:
    return SignatureRefused(reason, code=code)


def check_folder_signature(
    data: bytes,
    *,
    documents: Mapping[str, tuple[DocumentRef, bytes]],
    trust: TrustStore,
    book: ParticipantId,
    folder_id: str,
    step: int,
    signatory: ParticipantId,
    at: datetime | None = None,
    allow_timestamp: bool = True,
    timestamp_authorities: Collection[ParticipantId] | None = None,
) -> FolderSignature:
    """Verify ``data`` as ``signatory``'s signature of step ``step`` of this folder, or raise ``SignatureRefused``.

    Whom it signs for is read from its context; the caller checks that against delegations.
    """
    objects = {document_uri(name): content for name, (_, content) in documents.items()}
    verified = verify_detached(
        data,
        objects,
        trust,
        at=at,
        allow_timestamp=allow_timestamp,
        timestamp_authorities=timestamp_authorities,
    )
    if verified.signer.participant != signatory:
        raise _wrong("Signature.WrongSigner", f"signed by {verified.signer.participant}, not by {signatory}")
    if verified.commitment != PROOF_OF_APPROVAL or verified.qualifier is None:
        raise _wrong(
            "Signature.WrongContext", "a folder signature commits to ProofOfApproval with a SigningContext"
        )
    try:
        context = SigningContext.from_xml_tree(verified.qualifier)
    except (pydantic.ValidationError, ValueError) as error:
        raise _wrong("Signature.WrongContext", f"unreadable SigningContext: {error}") from None
    expected = (str(book), folder_id, step, str(signatory))
    found = (context.book, context.folder_id, context.step, context.signatory)
    if found != expected:
        raise _wrong(
            "Signature.WrongContext",
            f"signed for book {found[0]}, folder {found[1]}, step {found[2]}, signatory {found[3]}; "
            f"expected {expected[0]}, {expected[1]}, step {expected[2]}, {expected[3]}",
        )
    if verified.claimed_roles != claimed_roles(context.on_behalf_of):
        raise _wrong("Signature.WrongContext", "the claimed role does not match whom the signature is for")
    for name, (ref, _) in documents.items():
        if verified.formats.get(document_uri(name)) != (ref.mime_type, ref.description or ref.name):
            raise _wrong("Signature.WrongFormat", f"DataObjectFormat of {name} does not match the document")
    return FolderSignature(verified, context)


def document_info(ref: DocumentRef) -> DocumentInfo:
    return DocumentInfo(
        name=ref.name, mime_type=ref.mime_type, sha256=ref.sha256, size=ref.size, description=ref.description
    )
