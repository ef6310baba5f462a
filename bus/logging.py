"""structlog set-up: one JSON object per line on stderr, UTC timestamps, level filtering."""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

import structlog
from structlog.tracebacks import ExceptionDictTransformer


def configure_logging(level: str | None = None, *, stream: TextIO | None = None) -> None:
    """Send govbus logs as JSON lines to ``stream`` (stderr); level from argument, $GOVBUS_LOG_LEVEL or INFO."""
    name = (level or os.environ.get("GOVBUS_LOG_LEVEL") or "INFO").upper()
    numeric = logging.getLevelNamesMapping().get(name, logging.INFO)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            # Tracebacks without frame locals: a local may hold a message body (never log message content).
            structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_SharedLogger(stream or sys.stderr),
        cache_logger_on_first_use=False,
    )


class _SharedLogger:
    """One ``PrintLogger`` for every bound logger of a configuration.

    Loggers stay lazy (a configuration made later applies to loggers already created), so each call
    binds anew; sharing the printer makes that bind cheap, which matters for the lines filtered out by
    level on the message path (``PrintLoggerFactory`` builds a printer per call). ``PrintLogger``
    writes each line under its stream's lock, so sharing it across threads is safe.
    """

    def __init__(self, stream: TextIO) -> None:
        self._logger = structlog.PrintLogger(stream)

    def __call__(self, *args: object) -> structlog.PrintLogger:
        return self._logger
