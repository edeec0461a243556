"""desk: the review actions (approve, reject, undo, retry, dismiss, publish) on real journal
rows, artefacts and output files.

Each photo goes through the worker's steps (enqueue, claim, ``pipeline.process`` with
``holding`` and ``keep``, ``Desk.keep``, finish) with the fake model, in tmp folders
(tests/desk_bench.py)."""

from __future__ import annotations

import json

import pytest

from desk_bench import REMOVE_MIDDLE, Bench
from studiocut import journal
from studiocut.journal import Identity
from studiocut.review.lookup import Refused

# --------------------------------------------------------------------------- review states


def test_approve_publishes_a_held_result_and_unreview_holds_it_again(held: Bench) -> None:
    job_id = held.shoot()

    approved = held.desk.approve(job_id)

    assert (approved.review, approved.published) == ("approved", 1)
    assert held.output() == held.store.result(held.revision(job_id, 1))
    assert held.revision(job_id, 1).status == journal.PUBLISHED
    assert json.loads(approved.undo or "") == {"review": "held", "published": None}

    back = held.desk.unreview(job_id)

    assert (back.review, back.published, back.undo) == ("held", None, None)
    assert held.output() is None
    assert held.revision(job_id, 1).status == journal.READY
    with pytest.raises(Refused, match="nothing to undo") as refused:
        held.desk.unreview(job_id)
    assert refused.value.status == 409


def test_approve_of_a_published_result_leaves_the_output_alone(bench: Bench) -> None:
    job_id = bench.shoot()
    before = (bench.out / "shot.jpg").stat().st_mtime_ns

    approved = bench.desk.approve(job_id)

    assert (approved.review, approved.published) == ("approved", 1)
    assert (bench.out / "shot.jpg").stat().st_mtime_ns == before


def test_reject_withdraws_the_output_and_undo_brings_it_back(bench: Bench) -> None:
    job_id = bench.shoot()
    published = bench.output()

    rejected = bench.desk.reject(job_id)

    assert (rejected.review, rejected.published) == ("rejected", None)
    assert bench.output() is None
    assert [r.status for r in bench.journal.revisions(job_id)] == [journal.READY]

    restored = bench.desk.unreview(job_id)

    assert (restored.review, restored.published) == ("none", 1)
    assert bench.output() == published


def test_retry_and_dismiss_are_for_failed_photos_only(bench: Bench) -> None:
    done = bench.shoot()
    source = bench.watch / "bad.jpg"
    source.write_bytes(b"not a photo")
    queued = bench.journal.enqueue("test", source, Identity.of(source.stat()), "v1")
    assert queued is not None and bench.journal.claim_next(["test"]) is not None
    bench.journal.finish(queued.id, journal.FAILED, reason="unreadable", message="bad")

    assert bench.desk.dismiss(queued.id).review == "dismissed"
    assert bench.desk.retry(queued.id).state == journal.PENDING
    for action in (bench.desk.retry, bench.desk.dismiss):
        with pytest.raises(Refused, match="only a failed photo") as refused:
            action(done)
        assert refused.value.status == 409


def test_reject_without_a_kept_revision_is_refused_and_keeps_the_output(bench: Bench) -> None:
    job_id = bench.shoot()
    first = bench.revision(job_id, 1)
    bench.journal.discard_revisions(older_than=first.created + 1)  # purged (or never kept)

    with pytest.raises(Refused, match="revisions are gone"):
        bench.desk.reject(job_id)

    assert bench.output() is not None


def test_approve_after_reject_brings_back_what_was_published_not_a_candidate(
    bench: Bench,
) -> None:
    job_id = bench.shoot()
    published = bench.output()
    bench.desk.refine(job_id, REMOVE_MIDDLE)  # a candidate, never applied
    bench.desk.reject(job_id)

    bench.desk.approve(job_id)

    assert bench.output() == published
    assert bench.job(job_id).published == 1
