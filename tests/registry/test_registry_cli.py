"""``govbus registry``: schema digests, refusals, remove-service, diff and the declarative apply."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bus.cli.main import cli
from bus.ids import ParticipantId, ServiceId
from bus.pki.authority import CertificateAuthority
from bus.pki.home import BusHome
from bus.registry.catalogue import Right, ServiceStyle
from bus.registry.schema import read_schema
from bus.registry.store import load_draft, load_published
from teleservices.cnss_attestation.contract import ATTESTATION

REPO = Path(__file__).resolve().parents[2]
CATALOGUES = REPO / "examples" / "catalogues"
CNSS = "MA/GOV/CNSS/attestations/cnss.attestation/v1"
MEF = "MA/GOV/MEF/marches-publics"
XSD = ATTESTATION.schema  # the name the contract gives its XSD, wherever it is shipped


@pytest.fixture
def home(tmp_path) -> BusHome:
    home = BusHome.at(tmp_path / "bus")
    CertificateAuthority.init(home)
    return home


def govbus(home: BusHome, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args[:2], "--home", str(home.root), *args[2:]])


def digest_of(name: str) -> str:
    return hashlib.sha256(read_schema(name)).hexdigest()


def test_add_service_records_the_schema_digest_in_the_signed_catalogue(home):
    assert govbus(home, "registry", "add-service", CNSS, "--schema", XSD).exit_code == 0
    assert govbus(home, "registry", "sign").exit_code == 0
    entry = load_published(home).service(ServiceId.parse(CNSS))
    assert entry.digest == digest_of(XSD)
    assert f'schemaDigest="{entry.digest}"' in (home.ca_dir / "catalogue.xml").read_text()
    shown = govbus(home, "registry", "show")
    assert f"sha256 {entry.digest[:12]}" in shown.output


def test_add_service_refuses_a_missing_schema(home):
    result = govbus(home, "registry", "add-service", CNSS, "--schema", "no_such_contract.xsd")
    assert result.exit_code == 1
    assert "schema no_such_contract.xsd not found" in result.stderr
    assert "Traceback" not in result.output
    assert not (home.ca_dir / "catalogue-draft.xml").exists()


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'>", "not well-formed"),
        (
            "<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'><xs:element name='a' type='b'/></xs:schema>",
            "is not a valid XSD",
        ),
    ],
)
def test_add_service_refuses_an_invalid_schema(home, tmp_path, text, complaint):
    path = tmp_path / "broken.xsd"
    path.write_text(text)
    result = govbus(home, "registry", "add-service", CNSS, "--schema", str(path))
    assert result.exit_code == 1
    assert complaint in result.stderr


def test_remove_service_drops_its_grants_and_diff_shows_it(home):
    govbus(home, "registry", "add-service", CNSS, "--schema", XSD)
    govbus(home, "registry", "grant", MEF, CNSS)
    govbus(home, "registry", "sign")
    assert "no change against signed version 1" in govbus(home, "registry", "diff").output

    removed = govbus(home, "registry", "remove-service", CNSS)
    assert removed.exit_code == 0
    assert f"grant removed: {MEF} call" in removed.output
    assert load_draft(home).services == {} and load_draft(home).grants == frozenset()

    diff = govbus(home, "registry", "diff").output
    assert "2 change(s) against signed version 1:" in diff
    assert f"- service     {CNSS}  (request-reply, {XSD} " in diff
    assert f"- grant       {MEF} call {CNSS}" in diff


def test_removing_an_unknown_service_is_a_clear_error(home):
    govbus(home, "registry", "add-service", CNSS, "--schema", XSD)
    result = govbus(home, "registry", "remove-service", "MA/GOV/CNSS/attestations/other/v1")
    assert result.exit_code == 1
    assert result.stderr.startswith("Client.UnknownService:")


def test_apply_is_idempotent_and_signs_only_a_change(home, tmp_path):
    declaration = tmp_path / "bus.toml"
    declaration.write_text(
        f"""
[participants]
"{MEF}" = "Trésorerie, marchés publics"

[[services]]
provider = "MA/GOV/CNSS/attestations"
code = "cnss.attestation"
schema = "{XSD}"
clients = ["{MEF}"]
"""
    )
    first = govbus(home, "registry", "apply", str(declaration), "--sign")
    assert first.exit_code == 0, first.output
    assert f"+ grant       {MEF} call {CNSS}" in first.output
    assert "version: 1" in first.output
    again = govbus(home, "registry", "apply", str(declaration), "--sign")
    assert "no change against signed version 1" in again.output
    assert load_published(home).version == 1
    catalogue = load_published(home)
    assert catalogue.participants[ParticipantId.parse(MEF)] == "Trésorerie, marchés publics"
    assert catalogue.service(ServiceId.parse(CNSS)).digest == digest_of(XSD)

    # The file is the whole truth: a grant it no longer names goes away.
    declaration.write_text(declaration.read_text().replace(f'clients = ["{MEF}"]', ""))
    third = govbus(home, "registry", "apply", str(declaration))
    assert f"- grant       {MEF} call {CNSS}" in third.output
    assert "govbus registry sign" in third.output
    assert load_draft(home).grants == frozenset() and load_published(home).version == 1


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[[services]]\nprovider = 'MA/GOV/X/y'\ncode = 'c'\n", "services.0.schema: Field required"),
        (
            "[[services]]\nprovider='MA/GOV/X/y'\ncode='c'\nschema='cnss_attestation.xsd'\ncolour=1\n",
            "colour",
        ),
        (
            "[[services]]\nprovider = 'MA/GOV/X/y'\ncode = 'c'\nschema = 'gone.xsd'\n",
            "schema gone.xsd not found",
        ),
        (
            f"[[services]]\nprovider = 'nope'\ncode = 'c'\nschema = '{XSD}'\n",
            "InvalidIdentifier",
        ),
        ("services = [", "not TOML"),
    ],
)
def test_apply_refuses_a_bad_file_and_keeps_the_draft(home, tmp_path, text, complaint):
    govbus(home, "registry", "add-service", CNSS, "--schema", XSD)
    before = load_draft(home)
    declaration = tmp_path / "bad.toml"
    declaration.write_text(text)
    result = govbus(home, "registry", "apply", str(declaration))
    assert result.exit_code == 1
    assert complaint in result.stderr
    assert load_draft(home) == before


class _Recorder:
    """Stands in for ``TestBus`` where ``grant_office`` publishes: records what it publishes."""

    def __init__(self) -> None:
        self.published: set[tuple[str, str, Right]] = set()
        self.services: set[str] = set()

    def publish(self, contract, *, provider: str, clients) -> None:
        service = str(contract.service_of(provider))
        self.services.add(service)
        for client in clients:
            self.published.add((client, service, Right.CALL))


def test_the_mail_office_file_declares_the_catalogue_the_office_tests_use(home):
    from tests.mail_office.bus_world import grant_office

    expected = _Recorder()
    grant_office(
        expected,  # type: ignore[arg-type]
        "MA/GOV/MEF/bureau-ordre",
        desks=["MA/GOV/MEF/desk"],
        depositors=["MA/GOV/PORTAIL/guichet"],
        offices=["MA/GOV/CNSS/bureau-ordre"],
    )
    result = govbus(home, "registry", "apply", str(CATALOGUES / "mail_office.toml"), "--sign")
    assert result.exit_code == 0, result.output
    catalogue = load_published(home)
    assert {str(s) for s in catalogue.services} == expected.services
    assert {(str(g.client), str(g.service), g.right) for g in catalogue.grants} == expected.published


def test_the_signature_book_file_declares_the_documented_session(home):
    result = govbus(home, "registry", "apply", str(CATALOGUES / "signature_book.toml"), "--sign")
    assert result.exit_code == 0, result.output
    catalogue = load_published(home)
    book = ParticipantId.parse("MA/GOV/SGG/parapheur")
    assert len(catalogue.provided_by(book)) == 13
    assert len(catalogue.grants) == 13 * 4 + 1 + 2  # and the mail office: submit, its events
    event = catalogue.service(ServiceId.parse("MA/GOV/MEF/rh/signature-book.event/v1"))
    assert event.style is ServiceStyle.REQUEST_REPLY
    assert catalogue.allows(book, event.service, Right.CALL)
    assert all(e.digest for e in catalogue.services.values())
