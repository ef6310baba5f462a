"""The teleservice catalogue: who is on the bus, which services exist, who may use them."""

from bus.registry.catalogue import Catalogue, Grant, Right, ServiceEntry, ServiceStyle
from bus.registry.signed import load_catalogue, sign_catalogue

__all__ = ["Catalogue", "Grant", "Right", "ServiceEntry", "ServiceStyle", "load_catalogue", "sign_catalogue"]
