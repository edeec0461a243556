"""publishing: a revision into the output folder and the output out again, atomically and
journalled first, finished at the next start when a crash cut it short.

Each photo goes through the worker's steps (enqueue, claim, ``pipeline.process`` with
``holding`` and ``keep``, ``Desk.keep``, finish) with the fake model, in tmp folders
(tests/desk_bench.py)."""

from __future__ import annotations

import dataclasses

import pytest

from desk_bench import Bench
from studiocut.journal import Identity
from studiocut.review.lookup import Refused
from studiocut.review.publishing import WITHDRAW

# --------------------------------------------------------------------------- formats and names


def test_reject_withdraws_a_published_revision_of_another_format(bench: Bench) -> None:
    job_id = bench.shoot()
    bench.desk.publish(bench.desk.rerun(job_id, profile_name="web").id)

    bench.desk.reject(job_id)

    assert list(bench.out.iterdir()) == []


def test_a_revision_in_another_format_takes_a_reserved_name(bench: Bench) -> None:
    job_id = bench.shoot()
    rerun = bench.desk.rerun(job_id, profile_name="web")  # PNG
    other = bench.journal.enqueue("test", bench.watch / "shot.tif", Identity(1, 1, 1), "v1")
    assert other is not None
    bench.journal.reserve_output(other.id, [bench.out / "shot.png"])  # a TIFF of one stem owns it

    bench.desk.publish(rerun.id)

    job = bench.job(job_id)
    assert job.output == bench.out / f"shot-{job_id}.png"
    assert job.output.read_bytes() == bench.store.result(rerun)
    assert not (bench.out / "shot.jpg").exists()  # the earlier format is gone


# --------------------------------------------------------------------------- refusals


def test_a_revision_of_the_earlier_photo_is_never_published(bench: Bench) -> None:
    job_id = bench.shoot()
    first = bench.revision(job_id, 1)
    source = bench.watch / "shot.jpg"
    source.write_bytes(source.read_bytes() + b"\0")
    bench.journal.enqueue("test", source, Identity.of(source.stat()), "v1")

    with pytest.raises(Refused):
        bench.desk.publish(first.id)


def test_publishing_after_the_output_folder_moved_is_refused(held: Bench) -> None:
    job_id = held.shoot()
    moved = dataclasses.replace(held.profile, output=held.tmp / "elsewhere")
    (held.tmp / "elsewhere").mkdir()
    held.profiles.table["test"] = (moved, held.profiles.table["test"][1])

    with pytest.raises(Refused, match="writes to"):
        held.desk.approve(job_id)

    assert not (held.out / "shot.jpg").exists()
    assert list((held.tmp / "elsewhere").iterdir()) == []


# --------------------------------------------------------------------------- recovery


def test_recover_finishes_a_publish_a_crash_interrupted(held: Bench) -> None:
    job_id = held.shoot()
    held.journal.begin_publish(job_id, 1, "approved")  # an approve; then the daemon stopped

    assert held.new_desk().recover() == 1

    job = held.job(job_id)
    assert (job.publishing, job.published, job.publishing_review) == (None, 1, None)
    assert job.review == "approved"  # the state the interrupted approve was heading for
    assert held.output() == held.store.result(held.revision(job_id, 1))
    assert held.new_desk().recover() == 0


def test_recover_leaves_the_state_an_interrupted_undo_was_heading_for(held: Bench) -> None:
    job_id = held.shoot()
    held.journal.set_review(job_id, "rejected")
    held.journal.begin_publish(job_id, 1, "flagged")  # undo of a reject, cut short

    held.new_desk().recover()

    job = held.job(job_id)
    assert (job.review, job.published) == ("flagged", 1)
    assert held.output() == held.store.result(held.revision(job_id, 1))


def test_recover_gives_up_on_a_revision_that_is_gone(bench: Bench) -> None:
    job_id = bench.shoot()
    bench.journal.begin_publish(job_id, 7)

    assert bench.new_desk().recover() == 1

    job = bench.job(job_id)
    assert (job.publishing, job.published) == (None, 1)
    assert bench.journal.interrupted_publishes() == []


def test_a_withdrawal_cut_short_is_finished_at_the_next_start(bench: Bench) -> None:
    job_id = bench.shoot()
    bench.journal.begin_publish(job_id, WITHDRAW, "rejected")  # a reject; then the crash

    assert bench.new_desk().recover() == 1

    job = bench.job(job_id)
    assert (job.review, job.published, job.publishing) == ("rejected", None, None)
    assert bench.output() is None
