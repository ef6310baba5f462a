"""One configuration for every govbus command: ``govbus.toml``, overridden by ``GOVBUS_*`` variables.

Precedence, highest first: a command-line option (passed as ``overrides``), the environment
(``GOVBUS_HOME``, ``GOVBUS_BROKER``, ...), the configuration file, the defaults below. The file is
``--config FILE``, else ``$GOVBUS_CONFIG``, else ``govbus.toml`` in the current directory when there is
one. An empty variable counts as unset. Unknown keys in the file are an error, so a typo is never
silently ignored::

    home = "/srv/govbus"
    broker = "amqp://govbus:secret@rabbit.example:5672/"   # or the nodes of a cluster, tried in order:
    # broker = ["amqp://govbus:secret@rabbit1.example:5672/", "amqp://govbus:secret@rabbit2.example:5672/"]
    prefix = "govbus"
    participant = "MA/GOV/CNSS/attestations"
    log_level = "INFO"
    metrics_port = 9400

    [message_log]
    checkpoint_seconds = 60
    synchronous = "full"
    service_modes = { "MA/GOV/CNSS/attestations/cnss.attestation/v1" = "metadata" }

A list of brokers is a TOML array in the file and comma-separated in ``GOVBUS_BROKER`` and ``--broker``;
``broker`` always holds the comma-separated form (``bus.transport.split_broker_urls``).

The message-log keys keep their established variables: ``GOVBUS_CHECKPOINT_SECONDS``,
``GOVBUS_LOG_SYNCHRONOUS`` and ``GOVBUS_LOG_SERVICE_MODES`` (``SERVICE=MODE,...``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_ENV = "GOVBUS_CONFIG"
CONFIG_FILENAME = "govbus.toml"
DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_PREFIX = "govbus"
_MESSAGE_LOG_KEYS = {
    "checkpoint_seconds": "checkpoint_seconds",
    "synchronous": "log_synchronous",
    "service_modes": "log_service_modes",
}


class ConfigError(Exception):
    """The configuration file or a ``GOVBUS_*`` variable is unreadable or holds a bad value."""


class GovbusSettings(BaseSettings):
    """The settings every command and participant process reads; see the module docstring."""

    model_config = SettingsConfigDict(
        env_prefix="GOVBUS_", env_ignore_empty=True, extra="forbid", validate_default=True
    )
    toml_path: ClassVar[Path | None] = None

    home: Path | None = None
    broker: str = DEFAULT_BROKER
    prefix: str = Field(default=DEFAULT_PREFIX, min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    participant: str | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    checkpoint_seconds: float | None = Field(default=None, ge=0)
    log_synchronous: Literal["normal", "full"] | None = None
    log_service_modes: Annotated[dict[str, Literal["full", "metadata"]] | None, NoDecode] = None

    @model_validator(mode="before")
    @classmethod
    def _flatten_message_log(cls, data: Any) -> Any:
        """``[message_log]`` in the file fills the message-log fields that nothing above it set."""
        if not isinstance(data, dict) or "message_log" not in data:
            return data
        data = dict(data)
        table = data.pop("message_log")
        if not isinstance(table, dict):
            raise ValueError("message_log must be a table")
        for key, value in table.items():
            if key not in _MESSAGE_LOG_KEYS:
                raise ValueError(f"message_log.{key} is not a setting (use {', '.join(_MESSAGE_LOG_KEYS)})")
            data.setdefault(_MESSAGE_LOG_KEYS[key], value)
        return data

    @field_validator("broker", mode="before")
    @classmethod
    def _broker_list(cls, value: Any) -> Any:
        """A TOML array of URLs becomes the comma-separated form; an empty list is an error."""
        if isinstance(value, list):
            if not value or not all(isinstance(url, str) and url.strip() for url in value):
                raise ValueError("broker must be a URL or a non-empty list of URLs")
            return ",".join(url.strip() for url in value)
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_synchronous", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_service_modes", mode="before")
    @classmethod
    def _service_modes(cls, value: Any) -> Any:
        return parse_service_modes(value) if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: tuple[PydanticBaseSettingsSource, ...] = (init_settings, env_settings)
        if cls.toml_path is not None:
            sources += (TomlConfigSettingsSource(settings_cls, toml_file=cls.toml_path),)
        return sources


def parse_service_modes(text: str) -> dict[str, str]:
    """``"SERVICE=metadata, SERVICE=full"`` as a dict (the form of ``GOVBUS_LOG_SERVICE_MODES``)."""
    modes: dict[str, str] = {}
    for item in text.replace(";", ",").split(","):
        if item.strip():
            service, sep, mode = item.partition("=")
            if not sep:
                raise ValueError(f"expected SERVICE=MODE, got {item.strip()!r}")
            modes[service.strip()] = mode.strip().lower()
    return modes


def config_file(explicit: str | Path | None = None, environ: Mapping[str, str] = os.environ) -> Path | None:
    """The file to read: ``explicit``, else ``$GOVBUS_CONFIG``, else ``./govbus.toml`` if it exists.

    A file named explicitly (option or variable) must exist.
    """
    named = explicit or environ.get(CONFIG_ENV) or None
    if named is not None:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"configuration file {path} does not exist")
        return path
    local = Path(CONFIG_FILENAME)
    return local if local.is_file() else None


def load_settings(
    explicit: str | Path | None = None, overrides: Mapping[str, Any] | None = None
) -> GovbusSettings:
    """The settings from ``overrides`` (command-line values; None means not given), the environment,
    the configuration file and the defaults, in that order. Raise ``ConfigError`` on a bad value."""
    path = config_file(explicit)
    given = {key: value for key, value in (overrides or {}).items() if value is not None}
    settings_cls = type("FileSettings", (GovbusSettings,), {"toml_path": path})
    try:
        return settings_cls(**given)  # type: ignore[no-any-return]
    except ValidationError as error:
        where = f" (file {path})" if path is not None else ""
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'settings'}: {item['msg']}"
            for item in error.errors()
        )
        raise ConfigError(f"invalid configuration{where}: {problems}") from None
    except (OSError, ValueError) as error:  # an unreadable file, or TOML that does not parse
        raise ConfigError(f"cannot read configuration {path}: {error}") from None
