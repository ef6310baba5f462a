"""Structural limits: the work an unauthenticated message can cause before its signature value is
checked stays linear in its size, and each limit is refused with ``Client.XmlLimitExceeded``."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import lxml.etree as etree
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bus.envelope import EnvelopeVerifier, VerificationPolicy
from bus.faults import Fault, FaultCode
from bus.xml import DEFAULT_LIMITS, MAX_DEPTH, XmlLimits, parse_untrusted
from tests.helpers.envelopes import PAYLOAD_NS, fault_of, payload, signed
from tests.helpers.pki import CLIENT

_START = f'<a:AttestationRequest xmlns:a="{PAYLOAD_NS}"'.encode()


def _inserted(envelope: bytes, text: str, *, inside: str = "") -> bytes:
    """``envelope`` with ``text`` added to the payload's start tag and ``inside`` before its first child:
    what an attacker without the key sends (the signature no longer verifies)."""
    assert _START in envelope
    data = envelope.replace(_START, _START + b" " + text.encode(), 1)
    marker = b"<a:ice>"
    return data.replace(marker, inside.encode() + marker, 1)


def _code(data: bytes) -> FaultCode:
    with pytest.raises(Fault) as caught:
        parse_untrusted(data)
    return caught.value.code


def test_attributes_per_element_are_bounded(pki):
    envelope = signed(pki.identity(CLIENT))
    most = DEFAULT_LIMITS.max_attributes_per_element
    at_limit = payload()
    for i in range(most - 2):  # the payload start tag also declares one namespace (not an attribute)
        at_limit.set(f"a{i}", "")
    assert pki.verifier().verify(signed(pki.identity(CLIENT), body=at_limit))
    over = " ".join(f'a{i}=""' for i in range(most + 1))
    assert fault_of(pki.verifier(), _inserted(envelope, over)) is FaultCode.XML_LIMIT_EXCEEDED
    prefixed = " ".join(f'a:x{i}=""' for i in range(most + 1))
    assert fault_of(pki.verifier(), _inserted(envelope, prefixed)) is FaultCode.XML_LIMIT_EXCEEDED


def test_namespace_declarations_are_bounded(pki):
    envelope = signed(pki.identity(CLIENT))
    many = DEFAULT_LIMITS.max_namespace_declarations
    declarations = " ".join(f'xmlns:p{i}="urn:p{i}"' for i in range(many))
    assert fault_of(pki.verifier(), _inserted(envelope, declarations)) is FaultCode.XML_LIMIT_EXCEEDED
    # The word in text is no declaration: counted as a byte, then found absent from the tree.
    text = payload(name="xmlns " * (many + 1))
    assert pki.verifier().verify(signed(pki.identity(CLIENT), body=text))


def test_elements_are_bounded(pki):
    envelope = signed(pki.identity(CLIENT))
    most = DEFAULT_LIMITS.max_elements
    assert fault_of(pki.verifier(), _inserted(envelope, "", inside="<a:x/>" * most)) is (
        FaultCode.XML_LIMIT_EXCEEDED
    )
    count = sum(1 for _ in etree.fromstring(envelope).iter())
    exact = pki.verifier(policy=VerificationPolicy(limits=XmlLimits(max_elements=count)))
    assert exact.verify(envelope)
    below = pki.verifier(policy=VerificationPolicy(limits=XmlLimits(max_elements=count - 1)))
    assert fault_of(below, envelope) is FaultCode.XML_LIMIT_EXCEEDED
    # Markup-like text is no element: "<" in text is written "&lt;", so only real elements count.
    assert exact.verify(signed(pki.identity(CLIENT), body=payload(name="<x/>" * 40)))


def test_depth_and_text_size_are_bounded():
    deep = b"<a>" * (MAX_DEPTH + 1) + b"</a>" * (MAX_DEPTH + 1)
    assert _code(deep) is FaultCode.XML_LIMIT_EXCEEDED
    assert parse_untrusted(b"<a>" * (MAX_DEPTH - 1) + b"</a>" * (MAX_DEPTH - 1)) is not None
    long_text = b"<a>" + b"x" * 10_000_001 + b"</a>"
    assert _code(long_text) is FaultCode.XML_LIMIT_EXCEEDED
    long_value = b'<a b="' + b"x" * 10_000_001 + b'"/>'
    assert _code(long_value) is FaultCode.XML_LIMIT_EXCEEDED


# -- work grows linearly with the input ---------------------------------------------------------------

_Shape = Callable[[bytes, int], bytes]
SHAPES: dict[str, _Shape] = {
    "empty attributes on one element": lambda env, n: _inserted(env, " ".join(f'a{i}=""' for i in range(n))),
    "prefixed attributes on one element": lambda env, n: _inserted(
        env, " ".join(f'xmlns:p{i}="urn:p{i}" p{i}:a=""' for i in range(n))
    ),
    "namespaces in scope of many elements": lambda env, n: _inserted(
        env, " ".join(f'xmlns:p{i}="urn:p{i}"' for i in range(n // 4)), inside="<a:x/>" * n
    ),
    "elements": lambda env, n: _inserted(env, "", inside="<a:x/>" * (8 * n)),
    "attributes spread over elements": lambda env, n: _inserted(
        env, "", inside=("<a:x " + " ".join(f'b{i}=""' for i in range(100)) + "/>") * (n // 50)
    ),
}


def _cpu_seconds(verifier: EnvelopeVerifier, data: bytes) -> float:
    """CPU time of this thread for one verification (other processes on the machine do not count)."""
    started = time.thread_time()
    with contextlib.suppress(Fault):
        verifier.verify(data)
    return time.thread_time() - started


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=st.sampled_from(sorted(SHAPES)), base=st.integers(min_value=1000, max_value=2000))
def test_verification_work_grows_linearly_with_the_input(pki, shape, base):
    """Eight times the input costs at most 3 x 8 times the work (quadratic work would be about 64 times).

    Measured as this thread's CPU time, the best of several interleaved runs of each input, and compared
    with each other in the same test, so neither the machine's speed nor its load decides the outcome.
    """
    envelope = signed(pki.identity(CLIENT))
    verifier = pki.verifier(replay=False)
    small, large = SHAPES[shape](envelope, base), SHAPES[shape](envelope, 8 * base)
    best_small = best_large = float("inf")
    for _ in range(5):
        best_small = min(best_small, _cpu_seconds(verifier, small))
        best_large = min(best_large, _cpu_seconds(verifier, large))
    size_growth = len(large) / len(small)
    floor = 0.002  # below 2 ms of CPU the fixed costs of a verification dominate; keep the ratio meaningful
    assert max(best_large, floor) / max(best_small, floor) < 3 * size_growth, (shape, best_small, best_large)


def test_hostile_inputs_are_refused_in_milliseconds(pki):
    """The 40,000-attribute start tag of the outside attack run (6 to 8.5 s before the limits)."""
    envelope = signed(pki.identity(CLIENT))
    hostile = SHAPES["empty attributes on one element"](envelope, 40_000)
    verifier = pki.verifier(replay=False)
    assert fault_of(verifier, hostile) is FaultCode.XML_LIMIT_EXCEEDED
    assert min(_cpu_seconds(verifier, hostile) for _ in range(3)) < 0.5


def test_the_limits_apply_to_the_tree_not_to_markup_in_text():
    text = b"<a>" + b"&lt;b x=1 y=2 xmlns:z='u'/&gt;" * 1000 + b"</a>"
    strict = XmlLimits(max_attributes_per_element=1, max_namespace_declarations=1, max_elements=1)
    assert etree.QName(parse_untrusted(text, limits=strict)).localname == "a"
