"""Folders through their circuits over the bus: the actor is the verified envelope signer, refusals come
back as ``CallFailed.service_code``, and the submitting application hears every state change."""

from __future__ import annotations

import threading

from sdk import CallFailed
from teleservices.signature_book.contract import APPROVE, LIST, REJECT, SHOW, UNDO
from teleservices.signature_book.models import (
    ApproveFolder,
    EventKind,
    FolderStatusName,
    ListFolders,
    RejectFolder,
    ShowFolder,
    UndoAction,
)
from tests.signature_book.bus_world import OUTSIDER, BookWorld, eventually
from tests.signature_book.conftest import AGENT, DAF, DRH, MINISTER, SG, step, submission

E = EventKind


def approve(world: BookWorld, who: str, folder: str, **fields: str):
    return world.call(who, APPROVE, ApproveFolder(folder_id=folder, **fields))


def test_a_sequential_circuit_completes_and_the_submitter_hears_each_step(world: BookWorld) -> None:
    view = world.submit(submission(step("visa", DRH), step("visa", DAF), step("signature", SG)))
    assert view.submitter == AGENT and view.current_step == 1

    out_of_turn = world.refused(DAF, APPROVE, ApproveFolder(folder_id=view.folder_id))
    assert out_of_turn.service_code == "SignatureBook.NotAssigned"
    assert approve(world, DRH, view.folder_id, comment="vu").current_step == 2
    assert approve(world, DAF, view.folder_id).current_step == 3
    done = world.sign(SG, view.folder_id)
    assert done.status == FolderStatusName.COMPLETED

    shown = world.call(SG, SHOW, ShowFolder(folder_id=view.folder_id))
    assert [(h.kind, h.actor) for h in shown.history] == [
        ("submitted", AGENT),
        ("approved", DRH),
        ("approved", DAF),
        ("signed", SG),
    ]
    world.agent_inbox.wait_for_kinds(
        view.folder_id, [E.SUBMITTED, E.APPROVED, E.APPROVED, E.SIGNED, E.COMPLETED]
    )
    eventually(lambda: world.book.store.outbox_size() == 0, "every event acknowledged")


def test_an_and_step_needs_everyone_in_any_order_and_an_or_step_the_first(world: BookWorld) -> None:
    view = world.submit(
        submission(step("visa", DRH, DAF, quorum="all"), step("signature", SG, MINISTER, quorum="any"))
    )
    results: dict[str, object] = {}

    def act(who: str) -> None:
        try:
            results[who] = approve(world, who, view.folder_id)
        except CallFailed as failure:
            results[who] = failure

    threads = [threading.Thread(target=act, args=(who,)) for who in (DRH, DAF)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {who: r.action for who, r in results.items()} == {DRH: "approved", DAF: "approved"}  # type: ignore[union-attr]
    assert sorted(r.current_step for r in results.values()) == [1, 2]  # type: ignore[union-attr]

    assert world.sign(MINISTER, view.folder_id).status == FolderStatusName.COMPLETED
    late = world.refused(SG, APPROVE, ApproveFolder(folder_id=view.folder_id))
    assert late.service_code == "SignatureBook.FolderClosed"
    world.agent_inbox.wait_for(
        lambda: E.COMPLETED in world.agent_inbox.kinds(view.folder_id), "the completion"
    )


def test_a_rejection_closes_the_folder_and_its_reason_reaches_the_submitter(world: BookWorld) -> None:
    view = world.submit(submission(step("visa", DRH), step("signature", SG)))
    blank = world.refused(DRH, REJECT, RejectFolder(folder_id=view.folder_id, reason="   "))
    assert blank.service_code == "SignatureBook.ReasonRequired"
    rejected = world.call(DRH, REJECT, RejectFolder(folder_id=view.folder_id, reason="Pièce manquante"))
    assert rejected.status == FolderStatusName.REJECTED
    closed = world.refused(DRH, APPROVE, ApproveFolder(folder_id=view.folder_id))
    assert closed.service_code == "SignatureBook.FolderClosed"

    inbox = world.agent_inbox
    inbox.wait_for_kinds(view.folder_id, [E.SUBMITTED, E.REJECTED])
    assert inbox.folder_events[-1].reason == "Pièce manquante"
    assert inbox.folder_events[-1].actor == DRH


def test_undo_takes_back_ones_own_action_until_the_next_step_acts(world: BookWorld) -> None:
    view = world.submit(submission(step("visa", DRH), step("visa", DAF), step("signature", SG)))
    nothing = world.refused(DRH, UNDO, UndoAction(folder_id=view.folder_id))
    assert nothing.service_code == "SignatureBook.NothingToUndo"
    approve(world, DRH, view.folder_id)
    undone = world.call(DRH, UNDO, UndoAction(folder_id=view.folder_id))
    assert undone.action == "undone" and undone.current_step == 1
    approve(world, DRH, view.folder_id)
    approve(world, DAF, view.folder_id)
    too_late = world.refused(DRH, UNDO, UndoAction(folder_id=view.folder_id))
    assert too_late.service_code == "SignatureBook.UndoRefused"
    world.agent_inbox.wait_for_kinds(
        view.folder_id, [E.SUBMITTED, E.APPROVED, E.UNDONE, E.APPROVED, E.APPROVED]
    )


def test_only_the_folders_people_see_it(world: BookWorld) -> None:
    view = world.submit(submission(step("signature", SG)))
    hidden = world.refused(OUTSIDER, SHOW, ShowFolder(folder_id=view.folder_id))
    assert hidden.service_code == "SignatureBook.UnknownFolder"
    assert world.call(OUTSIDER, LIST, ListFolders()).folders == []
    waiting = world.call(SG, LIST, ListFolders(awaiting=SG))
    assert [f.folder_id for f in waiting.folders] == [view.folder_id]
