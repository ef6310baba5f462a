"""Pilot 1 in the demo: a procurement office checks its bidders with the CNSS, and three refusals."""

from __future__ import annotations

from collections.abc import Callable

from sdk import CallFailed, Client, open_node
from teleservices.access_tracker import PARTICIPANT as TRACKER
from teleservices.access_tracker import REPORT_ACCESS
from teleservices.cnss_attestation import (
    ATTESTATION,
    Attestation,
    AttestationRequest,
    Standing,
)
from teleservices.cnss_attestation import PARTICIPANT as CNSS
from teleservices.cnss_attestation.employers import ATLAS, RIF, SOUSS, UNKNOWN_ICE
from teleservices.demo.output import Output
from teleservices.demo.tamper import TamperingTransport
from teleservices.demo.trace import Event
from teleservices.demo.world import OUTSIDER, PROCUREMENT, World

TENDER = "AO-117/2026"
PURPOSE = f"public procurement: bidders of tender {TENDER}"
BIDDERS = [
    (AttestationRequest(ice=ATLAS.ice), Standing.GOOD),
    (AttestationRequest(ice=SOUSS.ice), Standing.NOT_GOOD),
    (AttestationRequest(affiliation=RIF.affiliation), Standing.NOT_GOOD),
    (AttestationRequest(ice=UNKNOWN_ICE), Standing.UNKNOWN),
]
SUBJECTS = [f"ICE:{ice}" for ice in (ATLAS.ice, SOUSS.ice, RIF.ice, UNKNOWN_ICE)]  # the data subjects
FORGED_ICE = "009999999000099"
REPORTS = str(REPORT_ACCESS.service_of(TRACKER))


def run(world: World, out: Output) -> None:
    out.section("Pilot 1: CNSS certificate (request/reply)")
    out.line(f"{PROCUREMENT} checks the bidders of tender {TENDER} with {CNSS}")
    out.line(f'purpose declared in every request: "{PURPOSE}", and the company as data subject')
    client = world.client(PROCUREMENT)
    for index, (request, expected) in enumerate(BIDDERS):
        out.line(f"→ {request.identifier}", 1)
        answer = client.call(CNSS, ATTESTATION, request, purpose=PURPOSE, data_subject=SUBJECTS[index])
        events = _pilot_events(world)
        if index == 0:
            out.events(events)
        verified = [e for e in events if e.direction == "in" and e.outcome == "accepted"]
        out.expect(
            answer.outcome is expected and len(verified) == 2,
            f"{_standing(answer)}   [signed and verified both ways]" if index else _standing(answer),
        )
    out.line()
    out.line("Refused, as they must be:")
    _refused(
        world,
        out,
        "no purpose nor data subject declared for a service marked personal",
        lambda: client.call(CNSS, ATTESTATION, BIDDERS[0][0]),
        expected="Client.PersonalDataUndeclared",
    )
    outsider = world.client(OUTSIDER)
    _refused(
        world,
        out,
        f"{OUTSIDER} holds no grant for cnss.attestation",
        lambda: outsider.call(
            CNSS, ATTESTATION, BIDDERS[0][0], purpose="urban planning permit", data_subject=SUBJECTS[0]
        ),
        expected="Client.AccessDenied",
    )
    node = open_node(
        PROCUREMENT,
        home=world.bus.home,
        broker=TamperingTransport(
            world.bus.transport, original=ATLAS.ice.encode(), forged=FORGED_ICE.encode()
        ),
    )
    world.trace.watch(node)
    try:
        tampered = Client(node=node)
        _refused(
            world,
            out,
            f"request altered on the wire after signing (ICE {ATLAS.ice} → {FORGED_ICE})",
            lambda: tampered.call(
                CNSS, ATTESTATION, BIDDERS[0][0], purpose=PURPOSE, data_subject=SUBJECTS[0], retries=0
            ),
            expected="Server.ResponseMismatch",  # the provider's fault is bound to the altered bytes
        )
    finally:
        node.close()


def _pilot_events(world: World) -> list[Event]:
    """The trace's events, without the access reports the CNSS sends the tracker in the background."""
    return [e for e in world.trace.take() if e.service != REPORTS]


def _refused(world: World, out: Output, what: str, call: Callable[[], Attestation], expected: str) -> None:
    out.line(f"✗ {what}", 1)
    try:
        answer = call()
    except CallFailed as failure:
        out.events(e for e in _pilot_events(world) if e.kind in ("fault", None) or e.outcome == "refused")
        code = f"{failure.code} ({failure.service_code})" if failure.service_code else str(failure.code)
        out.expect(
            expected in (failure.code, failure.service_code), f"refused: {code}: {failure.reason}", indent=3
        )
        return
    world.trace.take()
    out.expect(False, f"accepted: {answer}", indent=3)


def _standing(answer: Attestation) -> str:
    company = answer.company
    if answer.outcome is Standing.GOOD and company is not None and answer.certificate is not None:
        certificate = answer.certificate
        return (
            f"good standing: {company.name}, certificate {certificate.number}"
            f" ({certificate.issued} to {certificate.valid_until})"
        )
    if answer.outcome is Standing.NOT_GOOD and company is not None:
        return f"not in good standing: {company.name}: {answer.reason}"
    return "unknown company: no employer with this identifier is affiliated"
