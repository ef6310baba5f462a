"""``python -m bench``: run every benchmark and write one report (see bench/report.py)."""

import sys

from bench.report import main

sys.exit(main())
