"""The office's SQLite database (on ``sdk.store``), the only place in the mail office that holds SQL.

``OfficeStore.read()`` and ``OfficeStore.write()`` open a transaction and hand out a ``Tx``: ``tx.mails``
(letters, attachments, history, opinions, counters), ``tx.outbox`` and ``tx.registers``. Rows come back
as ``MailRow`` values and contract models.
"""

from teleservices.mail_office.store.database import DATABASE_FILE, OfficeStore, Tx
from teleservices.mail_office.store.mails import Mails
from teleservices.mail_office.store.outbox import OutboxRows
from teleservices.mail_office.store.registers import RegisterRows
from teleservices.mail_office.store.rows import MailRow, NewMail, Step
from teleservices.mail_office.store.schema import SCHEMA_VERSION

__all__ = [
    "DATABASE_FILE",
    "SCHEMA_VERSION",
    "MailRow",
    "Mails",
    "NewMail",
    "OfficeStore",
    "OutboxRows",
    "RegisterRows",
    "Step",
    "Tx",
]
