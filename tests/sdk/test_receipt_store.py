"""The digests of sent notifications (what receipts are checked against), on SQLite and PostgreSQL:
two hosts of one notifier share them."""

from __future__ import annotations

from bus.ids import ServiceId
from sdk.receipts import SentNotifications

SERVICE = ServiceId.parse("MA/GOV/ECHO/svc/echo.note/v1")


def test_a_digest_kept_on_one_host_is_read_on_the_other(storage) -> None:
    first = SentNotifications.open(storage)
    second = SentNotifications.open(storage)  # the same participant's store, opened by another host
    first.add_many([("n-1", "aa" * 32, SERVICE), ("n-2", "bb" * 32, SERVICE)])
    assert second.digest("n-1") == "aa" * 32
    second.add("n-1", "cc" * 32, SERVICE)  # re-sent: the latest digest wins
    assert first.digest("n-1") == "cc" * 32
    assert first.digest("n-2") == "bb" * 32
    assert first.digest("unknown") is None
