"""The in-memory replay cache: an id is refused while remembered and forgotten once expired."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from bus.envelope.model import utc_now
from bus.envelope.replay import MemoryReplayCache


def test_an_id_is_accepted_once():
    cache = MemoryReplayCache()
    until = utc_now() + timedelta(minutes=1)
    assert cache.check_and_remember("a", until=until)
    assert not cache.check_and_remember("a", until=until)
    assert cache.check_and_remember("b", until=until)
    assert len(cache) == 2


def test_expired_ids_are_forgotten():
    cache = MemoryReplayCache()
    assert cache.check_and_remember("old", until=utc_now() - timedelta(seconds=1))
    assert cache.check_and_remember("new", until=utc_now() + timedelta(minutes=1))
    assert len(cache) == 1
    assert cache.check_and_remember("old", until=utc_now() + timedelta(minutes=1))
    assert not cache.check_and_remember("new", until=utc_now() + timedelta(minutes=1))


def test_concurrent_first_sightings_accept_exactly_one():
    cache = MemoryReplayCache()
    until = utc_now() + timedelta(minutes=1)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: cache.check_and_remember("same", until=until), range(64)))
    assert results.count(True) == 1
