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
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import RABBITMQ_URL
from tests.pilots.processes import REPO, delete_topology, wait_until

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
from teleservices.signature_book.contract import SUBMIT
print(narsa_vehicles.__file__, sdk.__file__, ATTESTATION.digest, DEATH_NOTICE.digest, DEPOSIT.digest, SUBMIT.digest)
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
    run([*pip, "--no-build-isolation", govbus_src, example_src], timeout=300)

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
        provider.terminate()
        try:
            provider.wait(timeout=30)
        except subprocess.TimeoutExpired:
            provider.kill()
            provider.wait()
        if (home / "ca" / "catalogue.xml").exists():
            delete_topology(home, RABBITMQ_URL, prefix)
