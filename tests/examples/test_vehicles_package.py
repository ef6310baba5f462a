"""The vehicle registration example as an agency ships it: its own package, installed beside govbus.

A fresh virtual environment gets govbus and ``examples/vehicles`` installed (not editable, from copies of
their sources), and nothing of this checkout is importable there: the contract's XSD must come from the
installed package. The environment's own ``govbus`` builds a bus home, runs the provider on RabbitMQ with
``govbus run narsa_vehicles:app`` and calls it with ``govbus call``.

Dependencies come from a wheelhouse built once per set of dependencies (under ``$GOVBUS_TEST_WHEELS`` or
``~/.cache/govbus/test-wheels``) with pip and its cache; each run then installs with ``--no-index``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import RABBITMQ_URL
from tests.pilots.processes import REPO, delete_topology, wait_until
from tests.test_docs_examples import DOCS, blocks

EXAMPLE = REPO / "examples" / "vehicles"
PROVIDER = "MA/GOV/NARSA/vehicles"
POLICE = "MA/GOV/DGSN/circulation"
LOOKUP = f"{PROVIDER}/vehicle.lookup/v1"
SOURCES = ["bus", "sdk", "teleservices", "schemas", "pyproject.toml", "README.md", "LICENSE"]
QUERY = '<v:VehicleQuery xmlns:v="urn:ma:narsa:vehicles:1"><v:plate>12345-A-6</v:plate></v:VehicleQuery>\n'

WHERE = """
import narsa_vehicles, sdk
from teleservices.cnss_attestation.contract import ATTESTATION
from teleservices.death_notice.contract import DEATH_NOTICE
from teleservices.mail_office.contract import DEPOSIT
from importlib.metadata import files
shipped = {str(f) for f in files("govbus") if str(f).endswith(".xsd")}
assert "teleservices/signature_book/signature_book.xsd" in shipped, shipped  # its extra is not installed
print(narsa_vehicles.__file__, sdk.__file__, ATTESTATION.digest, DEATH_NOTICE.digest, DEPOSIT.digest)
"""

pytestmark = pytest.mark.rabbitmq


def run(
    argv: list[str | Path], *, timeout: float = 120, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **kwargs,  # type: ignore[call-overload]
    )
    assert done.returncode == 0, f"{argv} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def wheelhouse() -> Path:
    """Wheels of every dependency of govbus and the example (and a recent setuptools), built once."""
    key = hashlib.sha256(
        (REPO / "pyproject.toml").read_bytes()
        + (EXAMPLE / "pyproject.toml").read_bytes()
        + sys.version.encode()
    ).hexdigest()[:16]
    root = Path(os.environ.get("GOVBUS_TEST_WHEELS") or Path.home() / ".cache" / "govbus" / "test-wheels")
    house = root / key
    if not (house / ".complete").exists():
        shutil.rmtree(house, ignore_errors=True)
        house.mkdir(parents=True)
        run([sys.executable, "-m", "pip", "wheel", "-q", "-w", house, REPO, "setuptools>=77"], timeout=900)
        for built in house.glob("govbus-*.whl"):
            built.unlink()  # govbus is built from this checkout at every run
        (house / ".complete").touch()
    return house


def copy_sources(target: Path) -> tuple[Path, Path]:
    """Copies of govbus's and the example's sources to build from (the checkout stays clean)."""
    govbus = target / "govbus"
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, govbus / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, govbus / name)
    example = target / "narsa-vehicles"
    shutil.copytree(EXAMPLE, example, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    return govbus, example


def tutorial_package(target: Path) -> Path:
    """The package docs/sdk.md has its reader write: its ``file=`` blocks."""
    for block in blocks(DOCS / "sdk.md"):
        if block.file:
            path = target / block.file
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.code)
    return target


def tutorial_script(prefix: str, started_log: Path) -> str:
    """The ``sh rabbitmq`` blocks of docs/sdk.md as one bash script on this test's broker and prefix.

    ``govbus run`` goes to the background (its log in ``started_log``) and the script waits until it
    consumes; ``govbus run`` and ``govbus call`` get ``--prefix``.
    """
    lines = ["set -euo pipefail"]
    for block in blocks(DOCS / "sdk.md"):
        if block.info.split() != ["sh", "rabbitmq"]:
            continue
        for line in block.code.splitlines():
            if line.startswith("export "):
                lines += [line, f'export GOVBUS_BROKER="{RABBITMQ_URL}"']
            elif line.startswith("govbus run "):
                command = line.split("#")[0].strip()
                lines += [
                    f"{command} --prefix {prefix} > {started_log} 2>&1 &",
                    f"echo $! > {started_log}.pid",
                    f"for _ in $(seq 600); do grep -q app.started {started_log} && break; sleep 0.1; done",
                    f"grep -q app.started {started_log}",
                ]
            elif line.startswith("govbus call "):
                lines.append(f"{line} --prefix {prefix}")
            elif line.strip():
                lines.append(line)
    return "\n".join(lines) + "\n"


def stop(process: subprocess.Popen[bytes] | int) -> None:
    """SIGTERM (the worker drains and exits), SIGKILL if it is not gone within 30 s."""
    if isinstance(process, int):
        try:
            os.kill(process, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(process, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        os.kill(process, signal.SIGKILL)
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_the_example_package_runs_from_a_fresh_environment(tmp_path):
    house = wheelhouse()
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    pip = [
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "-q",
        "--no-index",
        "--find-links",
        house,
    ]
    run([*pip, "setuptools>=77"])
    govbus_src, example_src = copy_sources(tmp_path / "src")
    tutorial_src = tutorial_package(tmp_path / "src" / "narsa-lookup")
    run([*pip, "--no-build-isolation", govbus_src, example_src, tutorial_src], timeout=300)

    work = tmp_path / "work"  # neither the checkout nor the sources are importable from here
    work.mkdir()
    home = tmp_path / "home"
    prefix = f"veh{uuid.uuid4().hex[:10]}"
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
        "GOVBUS_HOME": str(home),
        "GOVBUS_BROKER": RABBITMQ_URL,
        "PYTHONUNBUFFERED": "1",
    }
    govbus = venv / "bin" / "govbus"

    def cli(*args: str) -> str:
        return run([govbus, *args], cwd=work, env=env).stdout

    where = run([python, "-c", WHERE], cwd=work)  # the installed packages, with their XSDs as package data
    assert str(REPO) not in where.stdout and str(venv) in where.stdout

    cli("pki", "init")
    cli("pki", "issue", PROVIDER)
    cli("pki", "issue", POLICE)
    cli("registry", "add-service", LOOKUP, "--schema", "narsa_vehicles:vehicle_registration.xsd")
    cli("registry", "grant", POLICE, LOOKUP)
    cli("registry", "sign")
    (work / "query.xml").write_text(QUERY)

    log_path = tmp_path / "provider.log"
    with log_path.open("wb") as log:
        provider = subprocess.Popen(
            [govbus, "run", "narsa_vehicles:app", "--prefix", prefix],
            cwd=work,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(
            lambda: '"app.started"' in log_path.read_text() or provider.poll() is not None,
            deadline=60,
            what="the provider started",
        )
        assert provider.poll() is None, log_path.read_text()
        called = cli(
            "call", "--as", POLICE, "--prefix", prefix, "--purpose", "roadside check", LOOKUP, "query.xml"
        )
        assert "<v:make>Dacia</v:make>" in called and "<v:cin>AB123456</v:cin>" in called
        consumer = run(
            [
                python,
                "-m",
                "narsa_vehicles.consumer",
                "--as",
                POLICE,
                "--prefix",
                prefix,
                "8812-B-1",
                "1-A-1",
            ],
            cwd=work,
            env=env,
        )
        assert "8812-B-1  Volkswagen Golf  reported-stolen" in consumer.stdout
        assert "1-A-1: not registered" in consumer.stdout
    finally:
        stop(provider)
        if (home / "ca" / "catalogue.xml").exists():
            delete_topology(home, RABBITMQ_URL, prefix)

    # The reader of docs/sdk.md: the page's commands, in a folder of its own, with the page's package.
    reader = tmp_path / "reader"
    reader.mkdir()
    log = reader / "provider.log"
    script = reader / "commands.sh"
    script.write_text(tutorial_script(prefix, log))
    shell_env = {k: v for k, v in env.items() if not k.startswith("GOVBUS_")}
    shell_env["PATH"] = f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"
    try:
        done = subprocess.run(
            ["bash", str(script)], cwd=reader, env=shell_env, capture_output=True, text=True, timeout=180
        )
        assert done.returncode == 0, (
            f"{done.stdout}\n{done.stderr}\n{log.read_text() if log.exists() else ''}"
        )
        assert "<v:make>Dacia Logan</v:make>" in done.stdout and "<v:owner>AB123456</v:owner>" in done.stdout
    finally:
        pid = reader / "provider.log.pid"
        if pid.exists():
            stop(int(pid.read_text()))
        if (reader / "bus-home" / "ca" / "catalogue.xml").exists():
            delete_topology(reader / "bus-home", RABBITMQ_URL, prefix)
