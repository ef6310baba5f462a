"""Verification time of the many-attributes input of issue 12 and of normal ~10 MiB envelopes (not a test).

Run: PYTHONPATH=. .venv/bin/python tests/attacks/measure_verification.py 40000
(REPEAT=N sets the runs per input, best kept; each argument is a number of empty attributes.)
"""

import sys
import tempfile
import time
from pathlib import Path

import lxml.etree as etree

from bus.faults import Fault
from tests.helpers import envelopes as E
from tests.helpers.pki import DEFAULT_PARTICIPANTS, build_home

pki = build_home(Path(tempfile.mkdtemp()) / "home")
ident = pki.identity(DEFAULT_PARTICIPANTS[0])
v = pki.verifier(replay=False)


def attrs_env(n):
    body = E.payload()
    for i in range(n):
        body.set(f"a{i}", "")
    return E.signed(ident, body=body).replace(b"<ds:SignatureValue>", b"<ds:SignatureValue>AAAA", 1)


def normal_env():
    body = E.payload()
    for _i in range(100):
        etree.SubElement(body, f"{{{E.PAYLOAD_NS}}}part").text = "x" * (100 * 1024)
    return E.signed(ident, body=body)


def records_env():
    body = E.payload()
    for i in range(60000):
        r = etree.SubElement(body, f"{{{E.PAYLOAD_NS}}}record", id=str(i))
        etree.SubElement(r, f"{{{E.PAYLOAD_NS}}}name").text = f"name {i} " * 10
    return E.signed(ident, body=body)


def timeit(label, data):
    best = None
    for _ in range(int(__import__("os").environ.get("REPEAT", "3"))):
        t = time.perf_counter()
        try:
            v.verify(data)
            out = "verified"
        except Fault as f:
            out = str(f.code)
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    print(f"{label}: {len(data) / 1048576:.2f} MiB, verify {best:.3f} s (best of 3) -> {out}", flush=True)


for n in [int(a) for a in sys.argv[1:]]:
    timeit(f"{n} empty attributes, broken signature value", attrs_env(n))
timeit("normal envelope, 100 text parts of 100 KiB", normal_env())
timeit("normal envelope, 60,000 records", records_env())
