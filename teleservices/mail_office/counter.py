"""The counter: a paper letter handed in by a visitor, registered in ``A`` by the clerk who received it.

The clerk (the envelope's ``userId`` over the bus) is the actor of the registration. A visitor who gave
their CIN (citizen) or ICE (company) is the letter's sender, and the office's ``counterChannel`` (a citizen
portal) follows the letter: its status steps and its reply go there, so the visitor sees both in the
portal. A visitor who gave neither is a ``visitor`` party named by a reference of the office's own; their
answer goes by post. Registration then runs exactly as a deposit's (``Intake.record``): same numbering,
deadline and acknowledgement, and the same letter from the same identified visitor is registered once.
"""

from __future__ import annotations

import secrets

from teleservices.mail_office.checks import ACTOR, check
from teleservices.mail_office.errors import InvalidSender
from teleservices.mail_office.intake import Intake
from teleservices.mail_office.ledger import Ledger
from teleservices.mail_office.models import Acknowledgement, CounterLetter, Deposit, Party, PartyKind
from teleservices.mail_office.parties import check_party

IDENTIFIED = (PartyKind.CITIZEN, PartyKind.COMPANY)


class Counter:
    """Registers the letters handed in at the counter."""

    def __init__(self, ledger: Ledger, intake: Intake) -> None:
        self._ledger = ledger
        self._intake = intake

    def register_counter(self, letter: CounterLetter, *, actor: str) -> Acknowledgement:
        """Register ``letter`` with ``actor`` (the clerk) as its registering actor; its acknowledgement."""
        check(ACTOR, actor, "actor")
        sender = self.visitor(letter)
        config = self._ledger.config
        deposit = Deposit(
            subject=letter.subject,
            sender=sender,
            recipient=Party(kind=PartyKind.ADMINISTRATION, identifier=config.participant, name=config.name),
            mail_type=letter.mail_type,
            body=letter.body,
            attachments=letter.attachments,
        )
        channel = config.counter_channel if sender.kind in IDENTIFIED else None
        return self._intake.record(deposit, channel=channel, actor=actor)

    @staticmethod
    def visitor(letter: CounterLetter) -> Party:
        """The sender: the identified citizen or company, else a visitor with a fresh counter reference."""
        if (letter.visitor_kind is None) != (letter.visitor_id is None):
            raise InvalidSender("give the visitor's kind and identifier (CIN or ICE) together, or neither")
        if letter.visitor_kind is None or letter.visitor_id is None:
            reference = f"guichet-{secrets.token_hex(8)}"
            return Party(kind=PartyKind.VISITOR, identifier=reference, name=letter.visitor_name)
        if letter.visitor_kind not in IDENTIFIED:
            raise InvalidSender("a visitor at the counter is a citizen (CIN) or a company (ICE)")
        party = Party(kind=letter.visitor_kind, identifier=letter.visitor_id, name=letter.visitor_name)
        check_party(party, "visitor")
        return party
