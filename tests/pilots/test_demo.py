"""``govbus demo`` runs both pilots and exits 0, on the embedded broker and on RabbitMQ."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.conftest import RABBITMQ_URL
from tests.helpers.rabbitmq import rabbitmqctl
from tests.pilots.processes import GOVBUS, REPO

EXPECTED_LINES = [
    "✓ good standing: Atlas Travaux SARL, certificate ATT-",
    "✓ not in good standing: Souss Agro SA: contributions unpaid",
    "✓ unknown company",
    "✓ refused: Client.PersonalDataUndeclared",
    "✓ refused: Client.AccessDenied",
    "✓ refused: Server.ResponseMismatch",
    "MA/GOV/CNSS/attestations     rejected a message before reading it: Client.InvalidSignature",
    "✓ MA/GOV/CIMR/pensions         suspended (pension CIMR-2324614868",
    "✓ MA/GOV/CNSS/pensions         already-recorded (pension CNSS-147323298",
    "✓ not answered after 1 s: MA/GOV/RCAR/pensions",
    "✓ late receipt recorded: MA/GOV/RCAR/pensions not-a-pensioner",
    "✓ MA/GOV/CMR/pensions          reinstated (pension CMR-7481220)",
    "every result is the expected one",
]


def demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GOVBUS, "demo", *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def check(run: subprocess.CompletedProcess[str]) -> None:
    assert run.returncode == 0, run.stdout + run.stderr
    assert "UNEXPECTED" not in run.stdout
    for line in EXPECTED_LINES:
        assert line in run.stdout, f"missing {line!r} in:\n{run.stdout}"
    assert run.stderr == ""  # the demo's logging stays quiet at WARNING


def test_demo_on_the_embedded_broker():
    check(demo())


@pytest.mark.rabbitmq
def test_demo_on_rabbitmq_leaves_no_queue_behind():
    run = demo("--broker", RABBITMQ_URL)
    check(run)
    prefix = re.search(r"names prefixed (demo-[0-9a-f]+)", run.stdout).group(1)
    queues = rabbitmqctl("list_queues", "--no-table-headers", "name").stdout.split()
    assert [q for q in queues if q.startswith(prefix + ".")] == []


def test_demo_keeps_its_bus_for_a_later_look(tmp_path):
    home = tmp_path / "kept"
    run = demo("--keep", str(home))
    check(run)
    assert (home / "ca" / "catalogue.xml").exists()
    cmr = home / "participants" / "MA+GOV+CMR+pensions"
    assert (cmr / "pensions.sqlite").exists() and (cmr / "cert.pem").exists()
    assert str(cmr / "messages.sqlite") in run.stdout
    assert (home / "participants" / "MA+COM+RABAT+etat-civil" / "civil_register.sqlite").exists()
    shown = subprocess.run(
        [*GOVBUS, "registry", "show", "--home", str(home)], capture_output=True, text=True, timeout=60
    )
    assert "death.notice.cancellation/v1" in shown.stdout


def test_demo_refuses_to_build_in_a_directory_that_is_not_empty(tmp_path):
    (tmp_path / "something").write_text("an existing bus home, perhaps")
    run = demo("--keep", str(tmp_path))
    assert run.returncode != 0
    assert "not empty" in run.stderr
    assert (tmp_path / "something").read_text() == "an existing bus home, perhaps"
