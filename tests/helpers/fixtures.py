"""Pytest fixtures for throwaway bus PKIs; import them into a conftest.py to use them.

``from tests.helpers.fixtures import fresh_pki, pki`` in a directory's conftest.py.
"""

from __future__ import annotations

import pytest

from tests.helpers.pki import ThrowawayPki, build_home


@pytest.fixture(scope="session", params=["ec", "rsa"])
def pki(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> ThrowawayPki:
    """A bus home shared by the session, once with an EC P-256 CA and once with RSA-2048: do not mutate it."""
    return build_home(tmp_path_factory.mktemp(f"home-{request.param}"), algorithm=request.param)


@pytest.fixture
def fresh_pki(tmp_path) -> ThrowawayPki:
    """A new EC bus home for this test only: revoke, re-issue and replace files freely."""
    return build_home(tmp_path / "home")
