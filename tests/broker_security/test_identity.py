"""Which broker URLs make a participant connect as itself (no broker needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bus.broker.identity import broker_options
from bus.ids import ParticipantId
from bus.pki.home import BusHome
from bus.transport.rabbitmq.tls import BrokerTls

HOME = BusHome(Path("/srv/govbus"))
ME = ParticipantId.parse("MA/GOV/CNSS/attestations")


def test_certificate_login_over_amqps_without_a_user() -> None:
    options = broker_options("amqps://broker.gov.ma:5671/govbus", HOME, ME)
    assert options == {
        "tls": BrokerTls(HOME.ca_cert, HOME.participant_cert(ME), HOME.participant_key(ME)),
        "participant": str(ME),
    }


def test_password_login_as_itself_keeps_the_ca_check_and_presents_no_certificate() -> None:
    url = "amqps://MA%2FGOV%2FCNSS%2Fattestations:secret@broker.gov.ma:5671/govbus"
    assert broker_options(url, HOME, ME) == {"tls": BrokerTls(HOME.ca_cert), "participant": str(ME)}
    plain = "amqp://MA%2FGOV%2FCNSS%2Fattestations:secret@127.0.0.1:5672/"
    assert broker_options(plain, HOME, ME) == {"participant": str(ME)}


def test_a_shared_login_connects_as_before() -> None:
    assert broker_options("amqp://guest:guest@127.0.0.1:5672/", HOME, ME) == {}
    assert broker_options("memory://demo", HOME, ME) == {}
    # another participant's user name is not this participant's identity
    assert "participant" not in broker_options("amqps://MA%2FGOV%2FCMR%2Fpensions:x@h/", HOME, ME)


def test_unusable_tls_files_are_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not a certificate")
    with pytest.raises(ValueError, match="unusable TLS files"):
        BrokerTls(tmp_path / "ca.pem").context()
    with pytest.raises(FileNotFoundError):
        BrokerTls(tmp_path / "missing.pem").context()
