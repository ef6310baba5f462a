"""``govbus audit``: exit codes, LOG resolution, progress, JSON, search, show, archive, checkpoint, anchor."""

from __future__ import annotations

import json
import sqlite3

import pytest

from bus.envelope import Header, MessageKind, sign_envelope
from bus.ids import ServiceId
from bus.pki import BusHome
from bus.xml import parse_untrusted
from tests.audit.builders import Exchange, connect, write_log
from tests.helpers.pki import CLIENT, PROVIDER, build_home


@pytest.fixture
def bus(tmp_path):
    """A bus home of its own whose client and provider each keep a log."""
    pki = build_home(tmp_path / "home")
    client_log = pki.home.participant_dir(pki.identity(CLIENT).participant) / "messages.sqlite"
    heads = write_log(client_log, pki, [Exchange(), Exchange(rejected=True), Exchange()], checkpoint_every=4)
    return pki, client_log, heads


def test_verify_ok_exits_0_with_a_summary(run, bus) -> None:
    pki, log, _ = bus
    result = run("audit", "verify", log, "--home", pki.home.root)
    assert result.exit_code == 0, result.output
    assert "records:      1..6" in result.output and "result:       OK" in result.output
    assert "checkpoints:  2 of 2 valid" in result.output


def test_verify_names_the_first_broken_record_and_exits_1(run, bus) -> None:
    pki, log, _ = bus
    connect(log).execute("UPDATE records SET purpose = 'other' WHERE seq = 3")
    result = run("audit", "verify", log, "--home", pki.home.root)
    assert result.exit_code == 1
    assert "FIRST BROKEN: record 3: modified" in result.output
    report = json.loads(run("audit", "verify", log, "--home", pki.home.root, "--json").output)
    assert report["first_problem"]["seq"] == 3 and report["exit_code"] == 1


def test_log_may_be_a_bus_home_with_or_without_as(run, bus) -> None:
    pki, _, _ = bus
    assert run("audit", "verify", pki.home.root).exit_code == 0
    assert run("audit", "verify", pki.home.root, "--as", CLIENT).exit_code == 0
    write_log(
        pki.home.participant_dir(pki.identity(PROVIDER).participant) / "messages.sqlite", pki, [Exchange()]
    )
    several = run("audit", "verify", pki.home.root)
    assert several.exit_code == 2 and "pass --as" in several.stderr
    assert run("audit", "verify", pki.home.root, "--as", PROVIDER).exit_code == 0


def test_the_ca_may_come_from_ca_cert_or_the_environment(run, bus) -> None:
    pki, log, _ = bus
    assert run("audit", "verify", log, "--ca-cert", pki.home.ca_cert).exit_code == 0
    assert "NOT checked" in run("audit", "verify", log, "--ca-cert", pki.home.ca_cert).output
    assert run("audit", "verify", log, env={"GOVBUS_HOME": str(pki.home.root)}).exit_code == 0
    missing = run("audit", "verify", log)
    assert missing.exit_code == 2 and "--ca-cert" in missing.stderr


def test_usage_errors_exit_2(run, tmp_path, bus) -> None:
    pki, _, _ = bus
    assert run("audit", "verify").exit_code == 2
    assert run("audit", "verify", tmp_path / "nothing.sqlite", "--home", pki.home.root).exit_code == 2
    assert run("audit", "search", tmp_path, "--since", "yesterday").exit_code == 2


def test_a_file_that_is_no_log_exits_1(run, tmp_path, bus) -> None:
    pki, _, _ = bus
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    result = run("audit", "verify", junk, "--home", pki.home.root)
    assert result.exit_code == 1 and "unreadable" in result.output


def test_progress_bar_when_asked(run, bus) -> None:
    pki, log, _ = bus
    shown = run("audit", "verify", log, "--home", pki.home.root, "--progress")
    assert shown.exit_code == 0 and "verifying" in shown.stderr
    assert "verifying" not in run("audit", "verify", log, "--home", pki.home.root).stderr


def test_verify_in_worker_processes(run, bus) -> None:
    pki, log, _ = bus
    result = run("audit", "verify", log, "--home", pki.home.root, "--jobs", "2", "--json")
    assert result.exit_code == 0
    assert json.loads(result.output)["envelopes_verified"] == 5


def test_search_filters_and_json(run, bus) -> None:
    _, log, heads = bus
    rejected = run("audit", "search", log, "--outcome", "rejected", "--json")
    records = [json.loads(line) for line in rejected.output.splitlines()]
    assert [(r["seq"], r["fault_code"], r["header_origin"]) for r in records] == [
        (4, "Client.InvalidSignature", "unverified")
    ]
    sent = run("audit", "search", log, "--direction", "out", "--client", CLIENT)
    assert sent.output.count(" sent ") == 3
    by_id = run("audit", "search", log, "--id", heads[0][1].id, "--json")
    assert json.loads(by_id.output)["kind"] == "response"
    middle = connect(log).execute("SELECT recorded_at FROM records WHERE seq = 3").fetchone()[0]
    since = [
        json.loads(line)["seq"]
        for line in run("audit", "search", log, "--since", middle, "--json").output.splitlines()
    ]
    assert since[0] <= 3 and since[-1] == 6
    assert "no matching record" in run("audit", "search", log, "--service", "MA/GOV/X/y/z/v1").output


def test_show_links_request_response_and_rejections(run, bus) -> None:
    pki, log, heads = bus
    request, answer = heads[1]
    for message_id in (request.id, answer.id):
        result = run("audit", "show", log, message_id, "--home", pki.home.root, "--json")
        assert result.exit_code == 0, result.output
        shown = json.loads(result.output)
        assert [(r["seq"], r["envelope"]) for r in shown["records"]] == [(3, "valid"), (4, "as-received")]
        assert shown["checkpoint"]["sequence"] == 4
    text = run("audit", "show", log, request.id, "--home", pki.home.root).output
    assert "chain: holds, up to the checkpoint at record 4" in text
    unknown = run("audit", "show", log, "00000000-0000-4000-8000-000000000000", "--home", pki.home.root)
    assert unknown.exit_code == 1 and "no record of message" in unknown.stderr


def test_show_reports_a_changed_record(run, bus) -> None:
    pki, log, heads = bus
    connect(log).execute("UPDATE records SET user_id = 'someone' WHERE seq = 1")
    result = run("audit", "show", log, heads[0][0].id, "--home", pki.home.root)
    assert result.exit_code == 1
    assert "RECORD HASH BROKEN" in result.output and "result: INVALID" in result.output


def test_archive_then_verify_both(run, bus) -> None:
    pki, log, _ = bus
    cutoff = connect(log).execute("SELECT recorded_at FROM records WHERE seq = 6").fetchone()[0]
    write_log(log, pki, [Exchange()])
    result = run("audit", "archive", log, "--before", "2999-01-01", "--home", pki.home.root)
    assert result.exit_code == 0, result.output + result.stderr
    assert "records 1..8" in result.output
    verified = run("audit", "verify", log, "--home", pki.home.root, "--json")
    assert verified.exit_code == 0 and json.loads(verified.output)["records"] == 8
    nothing = run("audit", "archive", log, "--before", cutoff, "--home", pki.home.root)
    assert "nothing recorded before" in nothing.output


def test_checkpoint_and_anchor_by_hand(run, tmp_path, bus) -> None:
    pki, log, _ = bus
    payload = tmp_path / "checkpoint.xml"
    made = run("audit", "checkpoint", log, "--home", pki.home.root, "-o", payload)
    assert made.exit_code == 0 and "record 6" in made.output
    identity = pki.identity(CLIENT)
    header = Header.new(
        MessageKind.NOTIFICATION,
        identity.participant,
        ServiceId.parse("MA/GOV/AUDIT/journal/audit.checkpoint/v1"),
    )
    envelope = tmp_path / "anchor.xml"
    envelope.write_bytes(sign_envelope(header, parse_untrusted(payload.read_bytes()), identity))
    anchors = tmp_path / "anchors.sqlite"
    first = run("audit", "anchor", anchors, envelope, "--home", pki.home.root)
    assert first.exit_code == 0 and first.output.startswith("new:")
    assert run("audit", "anchor", anchors, envelope, "--home", pki.home.root).output.startswith("duplicate:")
    checked = run("audit", "verify", log, "--home", pki.home.root, "--anchors", anchors)
    assert checked.exit_code == 0 and "1 anchored checkpoint(s) compared" in checked.output
    connect(log).execute("DELETE FROM records WHERE seq = 6")
    connect(log).execute("DELETE FROM checkpoints WHERE seq = 6")
    cut = run("audit", "verify", log, "--home", pki.home.root, "--anchors", anchors)
    assert cut.exit_code == 1 and "FIRST BROKEN: record 6: truncated" in cut.output


def test_the_home_participant_dir_is_found(run, bus) -> None:
    pki, log, _ = bus
    assert run("audit", "verify", log.parent, "--home", pki.home.root).exit_code == 0
    assert BusHome.at(pki.home.root).participant_dir(pki.identity(CLIENT).participant) == log.parent
    assert sqlite3.connect(log).execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_no_signatures_is_a_quick_check_that_says_so(run, bus) -> None:
    pki, log, _ = bus
    result = run("audit", "verify", log, "--home", pki.home.root, "--no-signatures")
    assert result.exit_code == 0
    assert "5 signature(s) NOT checked" in result.output
    connect(log).execute("UPDATE records SET purpose = 'other' WHERE seq = 3")
    assert run("audit", "verify", log, "--home", pki.home.root, "--no-signatures").exit_code == 1


def test_search_escapes_what_a_rejected_message_only_claimed(run, tmp_path) -> None:
    """A refused message's header is what its sender claimed: it reaches the auditor's terminal inert."""
    from bus.audit.log import MessageLog

    pki = build_home(tmp_path / "claims-home")
    log = tmp_path / "claims.sqlite"
    claimed = (
        '<Envelope xmlns="urn:govbus:envelope:1"><Header><id>id\u009b2J\u202e</id><kind>request</kind>'
        "<client>MA/GOV/X/y\u009b31m</client></Header><Body/></Envelope>"
    ).encode()
    with MessageLog.open(log, identity=pki.identity(PROVIDER), checkpoint_every=None) as writer:
        writer.record("in", claimed, header=None, outcome="rejected", fault_code="Client.InvalidSignature")
    found = run("audit", "search", log)
    assert found.exit_code == 0, found.output
    assert not {"\u009b", "\u202e"} & set(found.stdout)
    assert "id\\x9b2J\\u202e" in found.stdout and "MA/GOV/X/y\\x9b31m -> ?" in found.stdout
