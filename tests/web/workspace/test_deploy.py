"""The workspace outside the demo world: ``govbus web --broker amqp://... --workspace FILE`` on RabbitMQ,
with agents created by ``govbus web agent add``, and the clear refusals of a bad workspace file."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import RABBITMQ_URL
from tests.web.test_cli import CSRF, GOVBUS, free_port, run_web, sign_in, stop, wait_for_http
from web.demo import CNSS_OFFICE, MEF_OFFICE, DemoWorld

pytestmark = pytest.mark.rabbitmq
PASSWORD = re.compile(r"\(shown once\): (\S+)")


def workspace_file(
    path: Path, *, book: str, signer: str = "MA/GOV/MEF/sg", desk: str = "MA/GOV/MEF/desk"
) -> Path:
    path.write_text(
        f'signature_book = "{book}"\n'
        f'[offices."{MEF_OFFICE}"]\ndesk = "{desk}"\nname = "Ministère des Finances"\nservices = ["rh"]\n'
        f'[offices."{CNSS_OFFICE}"]\ndesk = "MA/GOV/CNSS/desk"\n'
        f'[signers]\n"mef.signataire" = "{signer}"\n'
        '[workers]\n"mef" = "http://127.0.0.1:9"\n',
        encoding="utf-8",
    )
    return path


def govbus(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GOVBUS, *args], capture_output=True, text=True, timeout=120)


def add_agent(data: Path, login: str, *options: str) -> str:
    result = govbus("web", "agent", "add", login, "--data", str(data), *options)
    assert result.returncode == 0, result.stderr
    found = PASSWORD.search(result.stdout)
    assert found is not None, result.stdout
    return found.group(1)


def agent_sign_in(client: httpx.Client, login: str, password: str) -> httpx.Response:
    token = CSRF.search(client.get("/workspace/login").text).group(1)  # type: ignore[union-attr]
    return client.post("/workspace/login", data={"csrf": token, "login": login, "password": password})


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    world = DemoWorld.build(
        tmp_path_factory.mktemp("deploy") / "bus", broker=RABBITMQ_URL, drain_interval=0.1
    )
    yield world
    world.close()


def test_desks_and_signers_of_the_workspace_file_on_rabbitmq(world: DemoWorld, tmp_path: Path):
    assert world.signature_book is not None
    data = tmp_path / "portal"
    clerk = add_agent(
        data, "mef.clerc", "--name", "Nadia Berrada", "--role", "clerk", "--administration", MEF_OFFICE
    )
    signer = add_agent(data, "mef.signataire", "--name", "Hassan Alami", "--role", "signer",
                       "--administration", MEF_OFFICE)  # fmt: skip
    admin = add_agent(data, "bus.admin", "--name", "Autorité", "--role", "bus-admin")
    settings = workspace_file(tmp_path / "workspace.toml", book=world.signature_book.participant)
    port = free_port()
    process = run_web(
        "--broker", RABBITMQ_URL, "--home", str(world.bus.root), "--prefix", world.bus.prefix,
        "--port", str(port), "--data", str(data), "--workspace", str(settings),
    )  # fmt: skip
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", process)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as citizen:
            token = CSRF.search(citizen.get("/register").text).group(1)  # type: ignore[union-attr]
            citizen.post(
                "/register",
                data={"csrf": token, "kind": "citizen", "identifier": "AB123456", "name": "Amina Alaoui",
                      "email": "a@example.ma", "password": "correct horse battery",
                      "confirm": "correct horse battery"},
            )  # fmt: skip
            sign_in(citizen, "AB123456", "correct horse battery")
            token = CSRF.search(citizen.get("/letters/new").text).group(1)  # type: ignore[union-attr]
            deposited = citizen.post(
                "/letters/new",
                data={"csrf": token, "office": MEF_OFFICE, "mail_type": "request",
                      "subject": "Demande de relevé de carrière", "body": "Merci."},
            )  # fmt: skip
            assert deposited.status_code == 303, deposited.text
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as desk:
            assert agent_sign_in(desk, "mef.clerc", clerk).headers["location"] == "/workspace/"
            mail = desk.get("/workspace/mail")
            assert mail.status_code == 200 and "Demande de relevé de carrière" in mail.text
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as book:
            assert agent_sign_in(book, "mef.signataire", signer).status_code == 303
            assert book.get("/workspace/sign").status_code == 200
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as authority:
            assert agent_sign_in(authority, "bus.admin", admin).status_code == 303
            workers = authority.get("/workspace/authority/workers")
            assert workers.status_code == 200 and "http://127.0.0.1:9" in workers.text
    finally:
        output = stop(process)
    assert "agents' workspace: /workspace/" in output
    assert "Traceback" not in output


def test_an_unknown_participant_or_a_missing_key_is_a_clear_error(world: DemoWorld, tmp_path: Path):
    assert world.signature_book is not None
    book = world.signature_book.participant
    common = ("--broker", RABBITMQ_URL, "--home", str(world.bus.root), "--prefix", world.bus.prefix,
              "--port", str(free_port()), "--data", str(tmp_path / "portal"))  # fmt: skip
    unknown = workspace_file(tmp_path / "unknown.toml", book=book, signer="MA/GOV/MEF/nobody")
    result = govbus("web", *common, "--workspace", str(unknown))
    assert result.returncode == 1, result.stdout
    assert "signer mef.signataire: MA/GOV/MEF/nobody is not a participant of the bus's signed catalogue" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr + result.stdout

    key = world.bus.home.participant_key(world.bus.participant("MA/GOV/MEF/sg-adjoint"))
    hidden = key.with_name("key.pem.away")
    key.rename(hidden)
    try:
        keyless = workspace_file(tmp_path / "keyless.toml", book=book, signer="MA/GOV/MEF/sg-adjoint")
        result = govbus("web", *common, "--workspace", str(keyless))
    finally:
        hidden.rename(key)
    assert (
        result.returncode == 1
        and "signer mef.signataire: no key.pem for MA/GOV/MEF/sg-adjoint" in result.stderr
    )
    assert "Traceback" not in result.stderr + result.stdout

    typo = tmp_path / "typo.toml"
    typo.write_text('[offices."MA/GOV/MEF/bureau-ordre"]\ndesk = "MA/GOV/MEF/desk"\ndeks = "x"\n')
    result = govbus("web", *common, "--workspace", str(typo))
    assert result.returncode == 1 and "invalid workspace file" in result.stderr and "deks" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
