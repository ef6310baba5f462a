"""Errors of the message log. Tampering found by verification is data (``Problem``), never an exception."""

from __future__ import annotations


class AuditError(Exception):
    """The log cannot do what was asked: not a govbus log, closed, damaged, no key to sign with, ..."""


class LogClosed(AuditError):
    """A record or checkpoint was asked of a closed log."""


class LogDamaged(AuditError):
    """The log's last record does not match its hash (a torn or edited write): nothing more is appended."""
