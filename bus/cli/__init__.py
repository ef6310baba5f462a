"""The ``govbus`` command line.

Every command group is built with one kit: ``bus.cli.errors`` (``GovbusGroup``: one error line, the
documented exit codes) and ``bus.cli.options`` (``--home``, ``--broker``, ``--prefix``, ``--as`` resolved
from the command line, the environment, ``govbus.toml`` and the defaults of ``bus.config``).
"""
