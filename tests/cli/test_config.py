"""One configuration: option > GOVBUS_* variable > govbus.toml > default, for every command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bus.config import DEFAULT_BROKER, ConfigError, load_settings
from bus.transport import mask_url


def shown(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_defaults_when_nothing_is_configured(govbus) -> None:
    values = shown(govbus("config", "show", "--json"))
    assert values["config_file"] is None
    assert (values["broker"], values["prefix"], values["log_level"]) == (
        mask_url(DEFAULT_BROKER),
        "govbus",
        "INFO",
    )
    assert values["home"] is None and values["participant"] is None and values["metrics_port"] is None


def test_each_level_overrides_the_one_below(govbus, tmp_path: Path) -> None:
    (tmp_path / "govbus.toml").write_text(
        'prefix = "from-file"\nbroker = "memory://from-file"\nlog_level = "warning"\nmetrics_port = 9400\n'
        'home = "/srv/govbus"\nparticipant = "MA/GOV/CNSS/attestations"\n'
    )
    from_file = shown(govbus("config", "show", "--json"))
    assert from_file["config_file"] == "govbus.toml"
    assert (from_file["prefix"], from_file["broker"], from_file["log_level"]) == (
        "from-file",
        "memory://from-file",
        "WARNING",
    )
    assert (from_file["metrics_port"], from_file["home"], from_file["participant"]) == (
        9400,
        "/srv/govbus",
        "MA/GOV/CNSS/attestations",
    )

    env = {"GOVBUS_PREFIX": "from-env", "GOVBUS_METRICS_PORT": "9500", "GOVBUS_PARTICIPANT": "MA/GOV/X/y"}
    from_env = shown(govbus("config", "show", "--json", env=env))
    assert (from_env["prefix"], from_env["metrics_port"], from_env["participant"]) == (
        "from-env",
        9500,
        "MA/GOV/X/y",
    )
    assert from_env["broker"] == "memory://from-file"  # not overridden: the file's value stays

    options = ["--prefix", "from-cli", "--metrics-port", "9600", "--as", "MA/GOV/Z/z", "--log-level", "debug"]
    from_cli = shown(govbus("config", "show", "--json", *options, env=env))
    assert (from_cli["prefix"], from_cli["metrics_port"], from_cli["participant"], from_cli["log_level"]) == (
        "from-cli",
        9600,
        "MA/GOV/Z/z",
        "DEBUG",
    )


def test_an_empty_variable_counts_as_unset(govbus, tmp_path: Path) -> None:
    (tmp_path / "govbus.toml").write_text('prefix = "from-file"\n')
    assert shown(govbus("config", "show", "--json", env={"GOVBUS_PREFIX": ""}))["prefix"] == "from-file"


def test_the_file_is_chosen_by_option_then_variable_then_working_directory(govbus, tmp_path: Path) -> None:
    (tmp_path / "govbus.toml").write_text('prefix = "local"\n')
    (tmp_path / "a.toml").write_text('prefix = "a"\n')
    (tmp_path / "b.toml").write_text('prefix = "b"\n')
    assert shown(govbus("config", "show", "--json"))["prefix"] == "local"
    assert shown(govbus("config", "show", "--json", env={"GOVBUS_CONFIG": "b.toml"}))["prefix"] == "b"
    chosen = shown(govbus("--config", "a.toml", "config", "show", "--json", env={"GOVBUS_CONFIG": "b.toml"}))
    assert (chosen["prefix"], chosen["config_file"]) == ("a", "a.toml")


def test_the_message_log_table_and_its_variables(govbus, tmp_path: Path) -> None:
    (tmp_path / "govbus.toml").write_text(
        '[message_log]\ncheckpoint_seconds = 5\nsynchronous = "full"\n'
        'service_modes = { "MA/GOV/CNSS/attestations/cnss.attestation/v1" = "metadata" }\n'
    )
    log = shown(govbus("config", "show", "--json"))["message_log"]
    assert log == {
        "checkpoint_seconds": 5.0,
        "synchronous": "full",
        "service_modes": {"MA/GOV/CNSS/attestations/cnss.attestation/v1": "metadata"},
    }
    env = {"GOVBUS_CHECKPOINT_SECONDS": "0", "GOVBUS_LOG_SERVICE_MODES": "MA/GOV/A/b/s/v1=full"}
    log = shown(govbus("config", "show", "--json", env=env))["message_log"]
    assert log == {
        "checkpoint_seconds": 0.0,
        "synchronous": "full",
        "service_modes": {"MA/GOV/A/b/s/v1": "full"},
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics_port = 0\n", "metrics_port"),
        ('prefxi = "typo"\n', "prefxi"),
        ("[message_log]\ncheckpoints = 5\n", "message_log.checkpoints is not a setting"),
        ('log_level = "LOUD"\n', "log_level"),
        ("prefix = \n", "cannot read configuration"),
    ],
)
def test_a_bad_file_is_one_clear_line(govbus, tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "govbus.toml").write_text(text)
    result = govbus("config", "show")
    assert result.exit_code == 1
    assert result.stderr.startswith("govbus: ") and message in result.stderr
    assert "Traceback" not in result.output


def test_a_named_file_must_exist(govbus) -> None:
    result = govbus("--config", "missing.toml", "config", "show")
    assert result.exit_code == 1 and "configuration file missing.toml does not exist" in result.stderr
    with pytest.raises(ConfigError):
        load_settings("missing.toml")


def test_commands_read_the_home_from_the_file(govbus, tmp_path: Path, pki) -> None:
    """``--home`` everywhere: a command that reads a home finds it in govbus.toml."""
    (tmp_path / "govbus.toml").write_text(f'home = "{pki.home.root}"\n')
    listed = govbus("pki", "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert {json.loads(line)["participant"] for line in listed.stdout.splitlines()} >= {
        "MA/GOV/MEF/tresorerie"
    }
    assert govbus("pki", "list", "--home", tmp_path / "nowhere").exit_code == 1
