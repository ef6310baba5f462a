"""The auditor console (``/workspace/audit``, role ``auditor``): the administration's message logs,
their verification in the background with a progress bar, search, evidence bundles, anchors.

Every route requires the ``auditor`` role and works on the agent's own administration only: a log is
named by its participant id and must be one of ``logs_of(home, administration)``, else 404, exactly like
a participant that keeps no log. Verifying starts a background job (``Verifications``) and redirects to
its page, which refreshes itself (``<noscript>`` meta refresh) or is updated by ``audit.js`` polling
``.../status``.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import structlog
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from bus.audit import AuditError, Outcome, store
from bus.audit.bundle import export_bundle
from bus.audit.evidence import gather
from bus.audit.record import timestamp
from bus.audit.trustfiles import TrustFiles
from bus.faults import Fault
from web.i18n import N_
from web.security import checked_form
from web.workspace.agents import Agent, Role
from web.workspace.audit.jobs import Busy, Job
from web.workspace.audit.logs import (
    Criteria,
    LogInfo,
    anchored_checkpoints,
    find,
    log_path,
    logs_of,
    open_anchors,
    read_info,
    same_administration,
)
from web.workspace.authority.settings import BusAccess
from web.workspace.pages import AgentVisit

log = structlog.get_logger("govbus.web.audit")
SEARCH_LIMIT = 200
COPY_LIMIT = 10 * 1024 * 1024
"""Uploaded copies: the portal refuses larger request bodies anyway (413); verify larger logs in place."""
_copies: Path | None = None


def _auditor(page: AgentVisit) -> tuple[Agent, BusAccess | None]:
    agent = page.require(Role.AUDITOR)
    bus = getattr(page.workspace, "bus", None)
    if agent.administration is None:
        raise HTTPException(403, "administration")
    return agent, bus


def _checked_log(bus: BusAccess | None, agent: Agent, participant: str) -> tuple[BusAccess, Path]:
    """The log file of ``participant`` when it is one of the agent's administration's logs; else 404."""
    if bus is None or participant not in logs_of(bus.home, agent.administration or ""):
        raise HTTPException(404)
    return bus, log_path(bus.home, participant)


def _infos(bus: BusAccess, administration: str) -> list[LogInfo]:
    """The administration's logs and their state; a log that cannot be read is listed as unreadable."""
    anchors = open_anchors(bus.anchors)
    try:
        found = []
        for participant in logs_of(bus.home, administration):
            path = log_path(bus.home, participant)
            try:
                found.append(read_info(path, participant, anchors))
            except (AuditError, sqlite3.DatabaseError) as error:
                log.warning("web.audit_log_unreadable", participant=participant, error=str(error))
                found.append(LogInfo(participant, path, 0, None, None, None, unreadable=str(error)))
        return found
    finally:
        if anchors is not None:
            anchors.close()


async def index(request: Request) -> Response:
    page = AgentVisit.of(request)
    agent, bus = _auditor(page)
    if bus is None:
        return page.render("audit/index.html", logs=[], connected=False, anchors_configured=False)
    logs = await run_in_threadpool(_infos, bus, agent.administration or "")
    return page.render(
        "audit/index.html", logs=logs, connected=True, anchors_configured=bus.anchors is not None
    )


def _start(
    page: AgentVisit,
    agent: Agent,
    bus: BusAccess,
    participant: str,
    label: str,
    paths: list[Path],
    include_archives: bool,
    discard: bool = False,
) -> Response:
    try:
        job = bus.verifications.start(
            administration=agent.administration or "",
            participant=participant,
            label=label,
            paths=paths,
            trust=TrustFiles.from_home(bus.home),
            anchors=anchored_checkpoints(bus.anchors),
            include_archives=include_archives,
            started_by=agent.actor,
            discard=discard,
        )
    except Busy:
        return page.render(
            "audit/busy.html", 429, error=page._("Too many verifications running: try again in a moment.")
        )
    log.info("web.audit_verification_started", agent=agent.login, participant=participant, job=job.id)
    return page.redirect(f"/workspace/audit/jobs/{job.id}")


async def verify(request: Request) -> Response:
    """Verify a participant's live log (with its archives) in the background."""
    page = AgentVisit.of(request)
    agent, bus = _auditor(page)
    form = await checked_form(request, page.session)
    participant = str(form.get("participant", ""))
    bus, path = _checked_log(bus, agent, participant)
    return _start(page, agent, bus, participant, str(path.name), [path], True)


def _copies_dir() -> Path:
    global _copies
    if _copies is None:
        _copies = Path(tempfile.mkdtemp(prefix="govbus-audit-copies-"))
    return _copies


async def verify_copy(request: Request) -> Response:
    """Verify a copy of a log the auditor holds (handed over, restored from a backup): it must be a log of
    one of the administration's participants; it is kept in a private temporary directory."""
    page = AgentVisit.of(request)
    agent, bus = _auditor(page)
    if bus is None:
        raise HTTPException(404)
    form = await checked_form(request, page.session, max_files=1)
    upload = form.get("copy")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _index_error(page, agent, bus, "Choisissez le fichier de la copie du journal.")
    target = _copies_dir() / f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{agent.id}.sqlite"

    def save() -> str | None:
        size = 0
        with target.open("wb") as out:
            while chunk := upload.file.read(1 << 20):
                size += len(chunk)
                if size > COPY_LIMIT:
                    return N_("The copy is larger than 10 MB.")
                out.write(chunk)
        try:
            conn = store.connect(target, readonly=True)
            try:
                meta = store.read_meta(conn, target)
            finally:
                conn.close()
        except (AuditError, sqlite3.DatabaseError):
            return N_("This file is not a readable govbus message log.")
        if not same_administration(meta.participant, agent.administration or ""):
            return N_("This copy is the log of a participant of another administration.")
        return None

    refused = await run_in_threadpool(save)
    if refused is not None:
        target.unlink(missing_ok=True)
        log.warning("web.audit_copy_refused", agent=agent.login, reason=refused)
        return await _index_error(page, agent, bus, page._(refused))
    meta = await run_in_threadpool(_meta, target)
    label = f"copie « {Path(upload.filename).name[:80]} »"
    return _start(page, agent, bus, meta.participant, label, [target], False, discard=True)


def _meta(path: Path) -> store.LogMeta:
    conn = store.connect(path, readonly=True)
    try:
        return store.read_meta(conn, path)
    finally:
        conn.close()


async def _index_error(page: AgentVisit, agent: Agent, bus: BusAccess, message: str) -> Response:
    logs = await run_in_threadpool(_infos, bus, agent.administration or "")
    return page.render(
        "audit/index.html",
        400,
        logs=logs,
        connected=True,
        anchors_configured=bus.anchors is not None,
        error=message,
    )


def _job(page: AgentVisit, agent: Agent, bus: BusAccess | None, job_id: str) -> Job:
    job: Job | None = bus.verifications.get(job_id, agent.administration or "") if bus is not None else None
    if job is None:
        raise HTTPException(404)
    return job


async def job_page(request: Request) -> Response:
    page = AgentVisit.of(request)
    agent, bus = _auditor(page)
    job = _job(page, agent, bus, request.path_params["job"])
    state = job.state  # read before the report: a job's report is set before its state leaves "running"
    report = job.report if state != "running" else None
    problems = sorted(report.problems, key=lambda p: (p.seq is None, p.seq or 0))[:100] if report else []
    return page.render("audit/job.html", job=job, state=state, report=report, problems=problems)


async def job_status(request: Request) -> Response:
    page = AgentVisit.of(request)
    agent, bus = _auditor(page)
    return JSONResponse(_job(page, agent, bus, request.path_params["job"]).as_json())


def _moment(value: str | None) -> str | None:
    """A ``datetime-local`` or ISO value (UTC) as the log's time text; ValueError when unreadable."""
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return timestamp(moment.astimezone(UTC))


async def records(request: Request) -> Response:
    """Search a log by service, client, data subject, outcome and time."""
    page = AgentVisit.of(request)
    agent, bus = _auditor(page)
    participant = request.path_params["participant"]
    bus, path = _checked_log(bus, agent, participant)
    params = request.query_params
    text = {
        k: (params.get(k) or "").strip()[:256] or None for k in ("service", "client", "subject", "outcome")
    }
    error = None
    try:
        criteria = Criteria(
            service=text["service"],
            client=text["client"],
            data_subject=text["subject"],
            outcome=text["outcome"],
            since=_moment(params.get("since")),
            until=_moment(params.get("until")),
        )
        if criteria.outcome is not None and criteria.outcome not in set(Outcome):
            raise ValueError(criteria.outcome)
    except ValueError:
        criteria, error = (
            Criteria(),
            page._("Unreadable criteria: dates as YYYY-MM-DDTHH:MM, an outcome from the list."),
        )
    found = await run_in_threadpool(find, path, criteria, SEARCH_LIMIT)
    return page.render(
        "audit/records.html",
        400 if error else 200,
        participant=participant,
        found=found,
        params=params,
        outcomes=[str(o) for o in Outcome],
        error=error,
    )


async def export(request: Request) -> Response:
    """The evidence bundle of one message (bus/audit/bundle.py); refused, readably, when it does not verify."""
    page = AgentVisit.of(request)
    agent, bus = _auditor(page)
    participant = request.path_params["participant"]
    bus, path = _checked_log(bus, agent, participant)
    message_id = (request.query_params.get("message") or "").strip()[:256]
    if not message_id:
        raise HTTPException(404)
    trust = TrustFiles.from_home(bus.home)
    out = Path(tempfile.mkdtemp(prefix="govbus-bundle-")) / "bundle.zip"

    def build() -> str | None:
        try:
            conn = store.connect(path, readonly=True)
            try:
                evidence = gather(conn, store.read_meta(conn, path), message_id, trust)
            finally:
                conn.close()
            export_bundle(evidence, out, trust=trust)
        except (AuditError, Fault) as error:
            return str(error)
        return None

    refused = await run_in_threadpool(build)
    if refused is not None:
        shutil.rmtree(out.parent, ignore_errors=True)
        log.info("web.audit_export_refused", agent=agent.login, participant=participant, message=message_id)
        return page.render(
            "audit/export_refused.html", 409, participant=participant, message_id=message_id, reason=refused
        )
    log.info("web.audit_exported", agent=agent.login, participant=participant, message=message_id)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in message_id)[:64]
    response = FileResponse(
        out,
        media_type="application/zip",
        filename=f"evidence-{safe}.zip",
        background=BackgroundTask(shutil.rmtree, out.parent, ignore_errors=True),
    )
    return page.finish(response)


routes = [
    Route("/", index),
    Route("/verify", verify, methods=["POST"]),
    Route("/verify-copy", verify_copy, methods=["POST"]),
    Route("/jobs/{job}", job_page),
    Route("/jobs/{job}/status", job_status),
    Route("/logs/{participant:path}/records", records),
    Route("/logs/{participant:path}/export", export),
]
