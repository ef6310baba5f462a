"""Lets the tests import ``narsa_vehicles`` from a checkout where the package is not installed."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
