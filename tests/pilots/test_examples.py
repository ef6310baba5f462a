"""The commands of examples/README.md, run as written (on RabbitMQ, under a prefix of their own)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import uuid

import pytest

from tests.conftest import RABBITMQ_URL
from tests.helpers.rabbitmq import rabbitmqctl
from tests.pilots.processes import GOVBUS, REPO, GovbusRun, delete_topology, wait_until

README = REPO / "examples" / "README.md"


def readme_commands() -> list[list[str]]:
    """Every command line of the README's ``sh`` blocks, in order (``export`` lines are the environment)."""
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", README.read_text(), re.S):
        for line in block.splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "export ")):
                commands.append(shlex.split(line))
    return commands


def test_the_readme_sets_the_environment_its_commands_use():
    text = README.read_text()
    assert "export GOVBUS_HOME=" in text and "export GOVBUS_BROKER=" in text
    programs = {command[0] for command in readme_commands()}
    assert programs == {"govbus", "python"}


@pytest.mark.rabbitmq
def test_the_readme_commands_work(tmp_path):
    home = tmp_path / "pilot-home"
    prefix = f"ex{uuid.uuid4().hex[:10]}"
    env = {**os.environ, "GOVBUS_HOME": str(home), "GOVBUS_BROKER": RABBITMQ_URL}
    servers: list[GovbusRun] = []
    outputs: list[tuple[list[str], str]] = []
    try:
        for command in readme_commands():
            program, *args = command
            if program == "python" or args[0] in ("run", "call"):
                args = [*args, "--prefix", prefix]
            if program == "govbus" and args[0] == "run":
                server = GovbusRun.command(args, logs=tmp_path / "logs", env=env)
                servers.append(server)
                server.wait_started()
                continue
            argv = [*GOVBUS, *args] if program == "govbus" else [sys.executable, *args]

            failures: list[str] = []

            def attempt(argv: list[str] = argv, failures: list[str] = failures) -> object:
                done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
                failures.append(done.stdout + done.stderr)
                return done if done.returncode == 0 else None

            try:
                done = wait_until(attempt, deadline=60, interval=1, what=shlex.join(command))
            except AssertionError as error:
                raise AssertionError(f"{error}; last output:\n{failures[-1]}") from None
            outputs.append((command, done.stdout))
    finally:
        for server in servers:
            server.stop()
        if (home / "ca" / "catalogue.xml").exists():
            delete_topology(home, RABBITMQ_URL, prefix)

    by_script = {shlex.join(command): out for command, out in outputs}
    consumer = next(out for cmd, out in by_script.items() if "procurement_consumer.py" in cmd)
    assert "Atlas Travaux SARL: good standing, certificate ATT-" in consumer
    assert "Souss Agro SA: NOT in good standing" in consumer
    assert "3870226  Rif Transport SARL AU: NOT in good standing" in consumer
    assert "003999888000012  unknown company" in consumer
    notice, cancellation = (out for cmd, out in by_script.items() if "commune_notifier.py" in cmd)
    assert "2 of 2 subscribers answered" in notice
    assert "from MA/GOV/CIMR/pensions: act 41/2026 outcome=suspended pension_number=CIMR-2324614868" in notice
    assert "from MA/GOV/CMR/pensions: act 41/2026 outcome=not-a-pensioner" in notice
    assert "2 of 2 subscribers answered" in cancellation
    assert "from MA/GOV/CIMR/pensions: act 41/2026 outcome=reinstated" in cancellation
    called = next(out for cmd, out in by_script.items() if cmd.startswith("govbus call"))
    assert "good-standing" in called and "ATT-" in called
    shown = next(out for cmd, out in by_script.items() if cmd == "govbus registry show")
    assert "call      MA/GOV/MEF/marches-publics" in shown
    queues = rabbitmqctl("list_queues", "--no-table-headers", "name").stdout.split()
    assert [q for q in queues if q.startswith(prefix + ".")] == []
