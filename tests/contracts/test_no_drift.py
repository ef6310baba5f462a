"""No contract in the repository drifts: every committed XSD is exactly what its payload models generate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import lxml.etree as etree
import pytest
from click.testing import CliRunner

from bus.cli.main import cli
from sdk import Payload, element
from sdk.contract_cli import EXIT_DRIFT, EXIT_USAGE, GeneratedSchema, generated_schemas
from sdk.xsdgen import SchemaGenerationError, XsdType, generate_xsd

CONTRACT_MODULES = [
    "teleservices.cnss_attestation.contract",
    "teleservices.death_notice.contract",
    "teleservices.mail_office.contract",
    "teleservices.signature_book.contract",
    "teleservices.access_tracker.contract",
    "teleservices.procurement.contract",
    "bench.echo_service",
    "bench.notifications",
    "tests.faults.service",
    "tests.sdk.echo",
]


REPO = Path(__file__).resolve().parents[2]


def _defines_contracts(path: Path) -> bool:
    text = path.read_text()
    return ("RequestReply(" in text or "Notification(" in text) and "def test_" not in text


def example_packages() -> list[tuple[Path, str]]:
    """(import root, module) of every contract module of the stand-alone example packages."""
    found = []
    for project in sorted(REPO.glob("examples/*/pyproject.toml")):
        for root in (project.parent / "src", project.parent):
            if not root.is_dir():
                continue
            for path in sorted(root.glob("*/**/*.py")):
                if "build" not in path.relative_to(root).parts and _defines_contracts(path):
                    found.append((root, ".".join(path.relative_to(root).with_suffix("").parts)))
            break
    return found


@pytest.mark.parametrize(("root", "module"), [*((None, m) for m in CONTRACT_MODULES), *example_packages()])
def test_the_committed_schema_is_what_the_models_generate(root, module, monkeypatch):
    if root is not None:
        monkeypatch.syspath_prepend(str(root))
    for schema in generated_schemas(module):
        assert schema.diff() == [], "".join(schema.diff())
        etree.XMLSchema(etree.fromstring(schema.text))  # and it compiles


def test_every_contract_module_of_the_repository_is_checked():
    paths = [*REPO.glob("teleservices/*/contract.py"), *REPO.glob("bench/*.py"), *REPO.glob("tests/**/*.py")]
    defining = {".".join(p.relative_to(REPO).with_suffix("").parts) for p in paths if _defines_contracts(p)}
    assert defining <= set(CONTRACT_MODULES), defining - set(CONTRACT_MODULES)
    examples = {p for p in REPO.glob("examples/**/*.py") if "build" not in p.parts and _defines_contracts(p)}
    assert {root / (module.replace(".", "/") + ".py") for root, module in example_packages()} == examples


def test_check_reports_drift_with_a_diff_and_exit_code(tmp_path, monkeypatch):
    (schema,) = generated_schemas("tests.sdk.echo")
    copy = tmp_path / "echo.xsd"
    copy.write_bytes(schema.text.replace(b'name="by"', b'name="from"'))
    drifted = GeneratedSchema(schema.module, schema.name, copy, schema.text)
    diff = "".join(drifted.diff())
    assert '-      <xs:element name="from" type="xs:string"/>' in diff
    assert '+      <xs:element name="by" type="xs:string"/>' in diff

    monkeypatch.setattr("sdk.contract_cli.generated_schemas", lambda module: [drifted])
    result = CliRunner().invoke(cli, ["contract", "check", "tests.sdk.echo"])
    assert result.exit_code == EXIT_DRIFT
    assert f"drift: {copy}" in result.output and "+      <xs:element" in result.output

    result = CliRunner().invoke(cli, ["contract", "generate", "tests.sdk.echo"])
    assert result.exit_code == 0 and f"written: {copy}" in result.output
    assert copy.read_bytes() == schema.text


def test_check_of_an_unknown_module_is_a_usage_error():
    result = CliRunner().invoke(cli, ["contract", "check", "no.such.module"])
    assert result.exit_code == EXIT_USAGE
    assert "no.such.module" in result.stderr


NS = "urn:t:gen:1"


class Named(Payload, tag="Named", ns="g", nsmap={"g": NS}):
    code: str = element(pattern=r"^[a-z]{2}$")


class Unanchored(Payload, tag="Unanchored", ns="g", nsmap={"g": NS}):
    code: str = element(pattern=r"[a-z]{2}")


class Typed(Payload, tag="Typed", ns="g", nsmap={"g": NS}):
    code: Annotated[str, XsdType("CodeType", r"^[A-Z]+$")] = element()


def test_patterns_lose_their_anchors_and_unanchored_ones_are_refused():
    text = generate_xsd([Named]).decode()
    assert '<xs:pattern value="[a-z]{2}"/>' in text
    with pytest.raises(SchemaGenerationError, match="anchor the pattern"):
        generate_xsd([Unanchored])


def test_xsd_type_names_a_simple_type_and_states_its_rule():
    schema = etree.XMLSchema(etree.fromstring(generate_xsd([Typed])))
    assert schema.validate(etree.fromstring(f'<g:Typed xmlns:g="{NS}"><g:code>AB</g:code></g:Typed>'))
    assert not schema.validate(etree.fromstring(f'<g:Typed xmlns:g="{NS}"><g:code>ab</g:code></g:Typed>'))
    assert '<xs:simpleType name="CodeType">' in generate_xsd([Typed]).decode()
