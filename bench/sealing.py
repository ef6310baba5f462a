"""Confidential payloads: sealing and opening against plain signing and verifying, in the same run.

- plain: ``sign_envelope`` then ``EnvelopeVerifier.verify`` (every rule, no replay cache).
- sealed: ``seal`` (AES-256-GCM, RSA-OAEP for the provider and the sender) then ``sign_envelope``, then
  ``verify`` and ``open_sealed`` (RSA-3072 unwrap, GCM, commitment, hardened parse of the plaintext).

Rounds alternate their order; times are this process's CPU time per message (``time.process_time``),
medians over the rounds; the ratio is the median of the per-round ratios sealed/plain.

    .venv/bin/python -m bench.sealing [--messages 200] [--rounds 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import xmlsec

from bench.envelope import CLIENT, SERVICE, payload
from bus.envelope import EnvelopeVerifier, Header, MessageKind, sign_envelope
from bus.envelope.encryption import Recipient, open_sealed, seal
from bus.ids import ParticipantId
from bus.pki import BusHome, SigningIdentity, TrustStore
from bus.pki.authority import CertificateAuthority


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        home = BusHome.at(Path(folder))
        authority = CertificateAuthority.init(home)
        client, provider = ParticipantId.parse(CLIENT), SERVICE.provider
        for party in (client, provider):
            authority.issue(party)
            authority.issue_encryption(party)
        identity = SigningIdentity.from_home(home, client)
        verifier = EnvelopeVerifier(TrustStore.from_home(home))

        def public(party: ParticipantId) -> Recipient:
            der = home.participant_encryption_cert(party).read_bytes()
            return Recipient(str(party), xmlsec.Key.from_memory(der, xmlsec.constants.KeyDataFormatCertPem))

        recipients = [public(provider), public(client)]
        private = xmlsec.Key.from_memory(
            home.participant_encryption_key(provider).read_bytes(), xmlsec.constants.KeyDataFormatPem
        )
        payloads = [payload(i) for i in range(args.messages)]

        def plain() -> None:
            for item in payloads:
                header = Header.new(MessageKind.REQUEST, client, SERVICE)
                verifier.verify(sign_envelope(header, item, identity))

        def sealed() -> None:
            for item in payloads:
                header = Header.new(MessageKind.REQUEST, client, SERVICE)
                verified = verifier.verify(sign_envelope(header, seal(item, recipients), identity))
                open_sealed(verified.payload, str(provider), private)

        def measure(run: object) -> float:
            started = time.process_time()
            run()  # type: ignore[operator]
            return (time.process_time() - started) / args.messages * 1e6

        rows: list[tuple[float, float]] = []
        for index in range(args.rounds):
            if index % 2:
                s = measure(sealed)
                p = measure(plain)
            else:
                p = measure(plain)
                s = measure(sealed)
            rows.append((p, s))
    result = {
        "plain_us": statistics.median(p for p, _ in rows),
        "sealed_us": statistics.median(s for _, s in rows),
        "ratio": statistics.median(s / p for p, s in rows),
        "messages": args.messages,
        "rounds": args.rounds,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"plain sign+verify {result['plain_us']:.0f} µs/message, sealed seal+sign+verify+open "
            f"{result['sealed_us']:.0f} µs/message: ratio {result['ratio']:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
