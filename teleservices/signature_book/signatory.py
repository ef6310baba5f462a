"""The signatory's side over the bus: fetch what to sign, sign it with one's own key, send the signature.

The book never holds signatories' keys. A signatory's application asks the book for the signing request
and the documents, checks them against the request's digests, makes the detached XAdES signature
locally (``signing.sign_request``) and sends it with ``signature-book.sign``.
"""

from __future__ import annotations

from datetime import datetime

from sdk import Client
from teleservices.signature_book._bus import ParticipantId
from teleservices.signature_book.contract import DOCUMENT, SIGN, SIGNING_REQUEST
from teleservices.signature_book.errors import SignatureRefused
from teleservices.signature_book.models import (
    ActionResult,
    GetDocument,
    GetSigningRequest,
    SignFolder,
    SigningRequest,
)
from teleservices.signature_book.signing import sign_request
from teleservices.signature_book.xades import DetachedXadesSigner


def fetch_signing_request(
    client: Client,
    book: ParticipantId | str,
    folder_id: str,
    *,
    on_behalf_of: ParticipantId | str | None = None,
    timeout: float = 10.0,
) -> tuple[SigningRequest, dict[str, bytes]]:
    """What ``client``'s participant must sign now in ``folder_id``, with the documents' bytes."""
    request = client.call(
        book,
        SIGNING_REQUEST,
        GetSigningRequest(folder_id=folder_id, on_behalf_of=str(on_behalf_of) if on_behalf_of else None),
        timeout=timeout,
    )
    if request.book != str(book) or request.folder_id != folder_id:
        raise SignatureRefused(f"the book answered for {request.book} folder {request.folder_id}")
    contents = {
        document.name: client.call(
            book, DOCUMENT, GetDocument(folder_id=folder_id, name=document.name), timeout=timeout
        ).content
        for document in request.documents
    }
    return request, contents


def sign_folder(
    client: Client,
    book: ParticipantId | str,
    signer: DetachedXadesSigner,
    folder_id: str,
    *,
    on_behalf_of: ParticipantId | str | None = None,
    signing_time: datetime | None = None,
    timeout: float = 30.0,
) -> ActionResult:
    """Sign the active signature step of ``folder_id`` as ``signer`` (``client``'s own participant)."""
    request, contents = fetch_signing_request(
        client, book, folder_id, on_behalf_of=on_behalf_of, timeout=timeout
    )
    signature = sign_request(signer, request, contents, signing_time=signing_time)
    return client.call(book, SIGN, SignFolder(folder_id=folder_id, signature=signature), timeout=timeout)


__all__ = ["fetch_signing_request", "sign_folder"]
