"""A PKCS#11 token as the key store (SoftHSM2 from Debian's ``softhsm2`` package, which ./dev installs):
keys made on the token and never extractable, CSRs signed there, envelopes and checkpoints signed there,
content keys of confidential payloads unwrapped there."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pkcs11
import pytest
from cryptography import x509
from pkcs11 import Attribute, ObjectClass

from bus.envelope import EnvelopeVerifier, Header, MessageKind
from bus.envelope.signer import sign_envelope
from bus.ids import ParticipantId, ServiceId
from bus.pki import SigningIdentity, TrustStore
from bus.pki.authority import PkiError
from bus.pki.token import MODULE_ENV, PIN_ENV, TOKEN_ENV, Pkcs11Token
from sdk.client import Client
from sdk.compose import open_node
from sdk.testing import TestBus
from tests.helpers.envelopes import payload
from tests.sdk.echo import CLIENT, ECHO, PROVIDER, EchoService, Ping

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "2468"
TOKENS = 6
pytestmark = pytest.mark.skipif(
    shutil.which("softhsm2-util") is None or not Path(MODULE).exists(),
    reason="SoftHSM2 (Debian package softhsm2) is not installed: ./dev installs it",
)


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Fresh SoftHSM2 tokens for the session, all made before the library is first loaded (it reads its
    configuration and lists its tokens once per process)."""
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    labels = [f"govbus-{uuid.uuid4().hex[:8]}" for _ in range(TOKENS)]
    for label in labels:
        subprocess.run(
            ["softhsm2-util", "--init-token", "--free", "--label", label, "--pin", PIN, "--so-pin", "13579"],
            check=True,
            capture_output=True,
            timeout=60,
        )
    yield labels
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


@pytest.fixture
def token_label(softhsm: list[str]) -> str:
    """A token no other test of the session uses."""
    return softhsm.pop()


def test_keys_made_on_the_token_sign_envelopes_that_libxmlsec_verifies(tmp_path, token_label):
    with TestBus(tmp_path / "bus") as bus:
        pid = bus.participant(CLIENT)
        token = Pkcs11Token(MODULE, token_label, PIN)
        try:
            token.generate(pid)
            signing = bus.authority.issue_from_csr(pid, token.csr(pid, "signing"), force=True)
            encryption = bus.authority.issue_from_csr(pid, token.csr(pid, "encryption"), encryption=True)
            assert encryption.extensions.get_extension_for_class(x509.KeyUsage).value.key_encipherment
            identity = SigningIdentity.from_token(token, pid, bus.home.participant_cert(pid).read_bytes())
            assert identity.key_pem == b"" and identity.certificate == signing
            header = Header.new(MessageKind.REQUEST, pid, ServiceId.parse(f"{PROVIDER}/echo/v1"))
            signed = sign_envelope(header, payload(), identity)
            verified = EnvelopeVerifier(TrustStore.from_home(bus.home)).verify(signed)
            assert verified.header.client == pid
            with pytest.raises(PkiError, match="already holds keys"):
                token.generate(pid)
        finally:
            token.close()
        with pkcs11.lib(MODULE).get_token(token_label=token_label).open(user_pin=PIN) as session:
            private = [*session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY})]
            assert len(private) == 2
            for key in private:
                assert key[Attribute.SENSITIVE] and not key[Attribute.EXTRACTABLE]
                with pytest.raises(pkcs11.AttributeSensitive):
                    key[Attribute.PRIVATE_EXPONENT if key.key_type == pkcs11.KeyType.RSA else Attribute.VALUE]


def test_a_participant_whose_keys_are_on_a_token_calls_a_confidential_service(
    tmp_path, token_label, monkeypatch
):
    with TestBus(tmp_path / "bus") as bus:
        bus.publish(ECHO, provider=PROVIDER, clients=[CLIENT], confidential=True)
        bus.start(EchoService().app)  # the provider's node opens before the token is configured
        pid = bus.participant(CLIENT)
        token = Pkcs11Token(MODULE, token_label, PIN)
        try:
            token.generate(pid)
            bus.authority.issue_from_csr(pid, token.csr(pid, "signing"), force=True)
            bus.authority.issue_from_csr(pid, token.csr(pid, "encryption"), encryption=True)
        finally:
            token.close()
        for name in ("key.pem", "enc-key.pem"):  # no key on disk: only the token can sign and decrypt
            (bus.home.participant_dir(pid) / name).unlink()
        monkeypatch.setenv(MODULE_ENV, MODULE)
        monkeypatch.setenv(TOKEN_ENV, token_label)
        monkeypatch.setenv(PIN_ENV, PIN)
        assert bus.node(PROVIDER).identity.token_key is None  # not on this token: its key files
        with Client(
            node=open_node(pid, home=bus.home, broker=bus.transport, checkpoint_interval=0.2)
        ) as client:
            assert client.call(PROVIDER, ECHO, Ping(text="from the token"), purpose="t", timeout=15).text == (
                "from the token"
            )
            assert client.node.identity.token_key is not None
            client.node.close()


def test_a_wrong_pin_is_a_clear_error(token_label):
    with pytest.raises(PkiError, match=f"token '{token_label}'.*cannot be opened"):
        Pkcs11Token(MODULE, token_label, "0000")


def test_keys_of_a_participant_the_token_does_not_hold_are_a_clear_error(token_label):
    token = Pkcs11Token(MODULE, token_label, PIN)
    try:
        with pytest.raises(PkiError, match="holds no signing key of MA/GOV/MEF/tresorerie"):
            token.signing_key(ParticipantId.parse(CLIENT))
    finally:
        token.close()
