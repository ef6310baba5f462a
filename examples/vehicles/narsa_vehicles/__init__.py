"""NARSA's vehicle registration teleservice, a package of its own on govbus.

``narsa_vehicles:app`` is the provider (``govbus run narsa_vehicles:app``); ``narsa_vehicles.contract``
is what callers import; ``python -m narsa_vehicles.consumer`` looks a vehicle up.
"""

from narsa_vehicles.contract import LOOKUP, REGISTRATION_CHANGED, TRANSFER
from narsa_vehicles.provider import PARTICIPANT, app

__all__ = ["LOOKUP", "PARTICIPANT", "REGISTRATION_CHANGED", "TRANSFER", "app"]
