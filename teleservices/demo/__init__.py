"""``govbus demo``: the pilots end to end on a throwaway bus (registered lazily by the govbus CLI)."""

from teleservices.demo.command import demo

__all__ = ["demo"]
