"""Throwaway bus PKIs for these tests (tests/helpers/fixtures.py)."""

from tests.helpers.fixtures import fresh_pki, pki

__all__ = ["fresh_pki", "pki"]
