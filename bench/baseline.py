"""The physical limit of a signed exchange on this machine: raw pika plus bare python-xmlsec.

What no signed request/reply or notification over RabbitMQ can avoid, and nothing else:

- a client thread, on its own pika ``BlockingConnection`` with direct reply-to, builds a document with
  govbus's envelope layout and size (Header, Body with the payload, enveloped signature), signs it
  (ECDSA P-256, exc-C14N, SHA-256, the signer's certificate in KeyInfo), publishes it persistent to a
  durable quorum queue, waits for the reply, verifies its signature with the peer's public key and
  checks that it answers these bytes (correlation id, SHA-256 of the request);
- a server process, single-threaded on one ``BlockingConnection`` (prefetch 64): parses, verifies,
  builds the response (correlation id, request hash, the payload echoed), signs it, replies, acks;
- a notifier on one ``SelectConnection`` signing each notification and publishing it with windowed
  publisher confirms; a subscriber process verifying each one, signing a receipt bound to it
  (correlation id, SHA-256), publishing the receipt and acknowledging the notification; a thread of the
  notifier verifies the receipts (as govbus's receipt inbox does).

Keys are loaded once per process. No XSD, no certificate chain or CRL, no message log, no idempotency
store, no confirms on calls, no payload model. Only pika, lxml and python-xmlsec do the work; the key
pairs and self-signed certificates are made once with the openssl command.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import lxml.etree as etree
import pika
import xmlsec

NS = "urn:govbus:envelope:1"
DSIG = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
ECHO_NS = "urn:t:echo:1"
CLIENT = "MA/GOV/BENCH/client"
PROVIDER = "MA/GOV/BENCH/echo"
SERVICE = PROVIDER + "/echo/v1"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True)
Identity = dict[str, bytes]


def make_identity(folder: Path, name: str) -> Identity:
    """An ECDSA P-256 key and its self-signed certificate (openssl): key PEM, certificate DER, SPKI PEM."""
    stem = name.replace("/", "+")
    key, cert = folder / f"{stem}-key.pem", folder / f"{stem}-cert.pem"
    subject = "/C=MA/O=GOV/CN=" + name.replace("/", ".")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", subject],
        check=True, capture_output=True,
    )  # fmt: skip
    der = subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-outform", "DER"], check=True, capture_output=True
    ).stdout
    spki = subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-pubkey", "-noout"], check=True, capture_output=True
    ).stdout
    return {"key": key.read_bytes(), "cert_der": der, "spki": spki}


def _template(cert_der: bytes) -> str:
    certificate = base64.encodebytes(cert_der).decode("ascii")
    return (
        f'<ds:Signature xmlns:ds="{DSIG}">\n<ds:SignedInfo>\n'
        f'<ds:CanonicalizationMethod Algorithm="{EXC_C14N}"/>\n'
        f'<ds:SignatureMethod Algorithm="{ECDSA_SHA256}"/>\n'
        '<ds:Reference URI="">\n<ds:Transforms>\n'
        f'<ds:Transform Algorithm="{ENVELOPED}"/>\n'
        f'<ds:Transform Algorithm="{EXC_C14N}"/>\n'
        "</ds:Transforms>\n"
        f'<ds:DigestMethod Algorithm="{SHA256}"/>\n'
        "<ds:DigestValue/>\n</ds:Reference>\n</ds:SignedInfo>\n<ds:SignatureValue/>\n"
        f"<ds:KeyInfo>\n<ds:X509Data>\n<ds:X509Certificate>{certificate}</ds:X509Certificate>\n"
        "</ds:X509Data>\n</ds:KeyInfo>\n</ds:Signature>"
    )


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def header(kind: str, client: str, message_id: str, extra: str = "") -> str:
    """A govbus-like header: id, kind, client, service, issued, expires, then ``extra``."""
    now = datetime.now(UTC)
    return (
        f"<Header><id>{message_id}</id><kind>{kind}</kind><client>{client}</client>"
        f"<service>{SERVICE}</service><issued>{_stamp(now)}</issued>"
        f"<expires>{_stamp(now + timedelta(seconds=40))}</expires>{extra}"
        "<protocolVersion>1.0</protocolVersion></Header>"
    )


def ping(text: str) -> str:
    return f'<e:Ping xmlns:e="{ECHO_NS}"><e:text>{text}</e:text></e:Ping>'


class Signer:
    """Signs with one key and verifies the peer's signatures with its public key (both loaded once)."""

    def __init__(self, own: Identity, peer_spki: bytes) -> None:
        self.key = xmlsec.Key.from_memory(own["key"], xmlsec.constants.KeyDataFormatPem)
        self.peer = xmlsec.Key.from_memory(peer_spki, xmlsec.constants.KeyDataFormatPem)
        self.template = _template(own["cert_der"])

    def sign(self, head: str, body: str) -> bytes:
        root = etree.fromstring(f'<Envelope xmlns="{NS}">{head}<Body>{body}</Body>{self.template}</Envelope>')
        context = xmlsec.SignatureContext()
        context.key = self.key
        context.sign(root[-1])
        return bytes(etree.tostring(root, encoding="UTF-8"))

    def verify(self, data: bytes) -> etree._Element:
        """The parsed document once its signature verifies (``xmlsec.Error`` otherwise)."""
        root = etree.fromstring(data, PARSER)
        context = xmlsec.SignatureContext()
        context.key = self.peer
        context.verify(root[-1])
        return root


def field(root: etree._Element, name: str) -> str | None:
    found = root[0].find(f"{{{NS}}}{name}")
    return found.text if found is not None else None


# -- request/reply -------------------------------------------------------------------------------


def server(url: str, queue: str, own: Identity, peer_spki: bytes, ready: Event, stop: Event) -> None:
    """One single-threaded server process: verify, answer signed, reply, ack (run until ``stop``)."""
    signer = Signer(own, peer_spki)
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
    channel.basic_qos(prefetch_count=64)

    def on_request(ch: Any, method: Any, properties: pika.BasicProperties, body: bytes) -> None:
        root = signer.verify(body)
        extra = (
            f"<correlationId>{field(root, 'id')}</correlationId>"
            f'<requestHash algorithm="sha256">{hashlib.sha256(body).hexdigest()}</requestHash>'
        )
        text = root[1][0][0].text or ""
        answer = signer.sign(
            header("response", PROVIDER, str(uuid.uuid4()), extra),
            f'<e:Pong xmlns:e="{ECHO_NS}"><e:text>{text}</e:text><e:by>{field(root, "client")}</e:by></e:Pong>',
        )
        reply = pika.BasicProperties(correlation_id=properties.correlation_id, delivery_mode=2)
        ch.basic_publish("", properties.reply_to, answer, reply)
        ch.basic_ack(method.delivery_tag)

    channel.basic_consume(queue, on_request)
    ready.set()
    while not stop.is_set():
        connection.process_data_events(time_limit=0.2)
    connection.close()


def client(url: str, queue: str, signer: Signer, text: str, sizes: dict[str, int]) -> Callable[[], None]:
    """One client connection; the returned function makes one verified call."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    answers: dict[str, bytes] = {}

    def on_reply(ch: Any, method: Any, properties: pika.BasicProperties, body: bytes) -> None:
        answers[properties.correlation_id] = body

    channel.basic_consume("amq.rabbitmq.reply-to", on_reply, auto_ack=True)
    document = ping(text)

    def call() -> None:
        message_id = str(uuid.uuid4())
        request = signer.sign(header("request", CLIENT, message_id), document)
        properties = pika.BasicProperties(
            reply_to="amq.rabbitmq.reply-to",
            correlation_id=message_id,
            message_id=message_id,
            delivery_mode=2,
        )
        channel.basic_publish("", queue, request, properties)
        while message_id not in answers:
            connection.process_data_events(time_limit=1)
        reply = answers.pop(message_id)
        root = signer.verify(reply)
        if (
            field(root, "correlationId") != message_id
            or field(root, "requestHash") != hashlib.sha256(request).hexdigest()
        ):
            raise RuntimeError("the reply does not answer this request")
        sizes["request"], sizes["response"] = len(request), len(reply)

    return call


# -- notifications -------------------------------------------------------------------------------


def notify(url: str, exchange: str, signer: Signer, text: str, count: int, window: int) -> tuple[float, int]:
    """Sign and publish ``count`` notifications with at most ``window`` unconfirmed; (seconds, size)."""
    state = {"sent": 0, "acked": 0, "size": 0}
    times = {"began": 0.0, "ended": 0.0}
    document = ping(text)
    holder: list[Any] = []

    def publish_more(channel: Any) -> None:
        while state["sent"] < count and state["sent"] - state["acked"] < window:
            message_id = str(uuid.uuid4())
            body = signer.sign(header("notification", PROVIDER, message_id), document)
            state["size"] = len(body)
            properties = pika.BasicProperties(delivery_mode=2, message_id=message_id)
            channel.basic_publish(exchange, "bench.note", body, properties)
            state["sent"] += 1

    def on_confirm(frame: Any) -> None:
        method = frame.method
        state["acked"] = method.delivery_tag if method.multiple else state["acked"] + 1
        if state["acked"] >= count:
            times["ended"] = time.perf_counter()
            connection.close()
        else:
            publish_more(holder[0])

    def on_channel(channel: Any) -> None:
        holder.append(channel)
        channel.confirm_delivery(on_confirm, callback=lambda _frame: start(channel))

    def start(channel: Any) -> None:
        times["began"] = time.perf_counter()
        publish_more(channel)

    connection = pika.SelectConnection(
        pika.URLParameters(url),
        on_open_callback=lambda conn: conn.channel(on_open_callback=on_channel),
        on_close_callback=lambda *_: connection.ioloop.stop(),
    )
    connection.ioloop.start()
    return times["ended"] - times["began"], state["size"]


def subscriber(
    url: str, queue: str, receipts: str, own: Identity, peer_spki: bytes, ready: Event, stop: Event
) -> None:
    """One single-threaded subscriber process: verify each notification, sign a receipt bound to it,
    publish the receipt to ``receipts``, ack (run until ``stop``)."""
    signer = Signer(own, peer_spki)
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=64)

    def on_note(ch: Any, method: Any, properties: pika.BasicProperties, body: bytes) -> None:
        root = signer.verify(body)
        extra = (
            f"<correlationId>{field(root, 'id')}</correlationId>"
            f'<requestHash algorithm="sha256">{hashlib.sha256(body).hexdigest()}</requestHash>'
        )
        receipt = signer.sign(
            header("receipt", CLIENT, str(uuid.uuid4()), extra),
            f'<e:Pong xmlns:e="{ECHO_NS}"><e:text>noted</e:text><e:by>{CLIENT}</e:by></e:Pong>',
        )
        ch.basic_publish("", receipts, receipt, pika.BasicProperties(delivery_mode=2))
        ch.basic_ack(method.delivery_tag)

    channel.basic_consume(queue, on_note)
    ready.set()
    while not stop.is_set():
        connection.process_data_events(time_limit=0.2)
    connection.close()


def receipt_checker(url: str, receipts: str, signer: Signer, stop: threading.Event) -> None:
    """The notifier's side of receipts (a thread of the notifier process): verify each one, ack it."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.basic_qos(prefetch_count=64)

    def on_receipt(ch: Any, method: Any, properties: pika.BasicProperties, body: bytes) -> None:
        signer.verify(body)
        ch.basic_ack(method.delivery_tag)

    channel.basic_consume(receipts, on_receipt)
    while not stop.is_set():
        connection.process_data_events(time_limit=0.2)
    connection.close()
