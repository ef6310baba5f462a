"""The office's SQLite database, the only place in the mail office that holds SQL.

``Store.read()`` and ``Store.write()`` open a transaction and hand out a ``Tx``: ``tx.mails`` (letters,
attachments, history, opinions, counters), ``tx.outbox`` and ``tx.registers``. Rows come back as
``MailRow`` values and contract models.
"""

from teleservices.mail_office.store.database import BUSY_TIMEOUT_SECONDS, DATABASE_FILE, Store, Tx
from teleservices.mail_office.store.mails import Mails
from teleservices.mail_office.store.outbox import OutboxRows
from teleservices.mail_office.store.registers import RegisterRows
from teleservices.mail_office.store.rows import MailRow, NewMail, Step
from teleservices.mail_office.store.schema import SCHEMA_VERSION

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "DATABASE_FILE",
    "SCHEMA_VERSION",
    "MailRow",
    "Mails",
    "NewMail",
    "OutboxRows",
    "RegisterRows",
    "Step",
    "Store",
    "Tx",
]
