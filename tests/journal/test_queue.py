"""queue: files enter the journal once per identity, workers claim, finish and release them,
and a restart recovers what a crash left in progress."""

from __future__ import annotations

from pathlib import Path

import pytest

from journals import A, B, Clock, queue, revise, the_job
from studiocut import journal
from studiocut.errors import OutputError
from studiocut.journal import Journal

# --------------------------------------------------------------------------- enqueue



def test_enqueue_records_a_pending_job_once_per_identity(db: Journal) -> None:
    source = Path("/in/IMG_0001.jpg")

    job = db.enqueue("p", source, A, "v1")
    again = db.enqueue("p", source, A, "v1")

    assert job is not None
    assert (job.profile, job.source, job.identity) == ("p", source, A)
    assert (job.state, job.attempts) == (journal.PENDING, 0)
    assert again is None
    assert len(db.jobs()) == 1
    assert db.is_known("p", source, A)
    assert not db.is_known("p", source, B)
    assert not db.is_known("other", source, A)


def test_enqueue_of_a_reshot_photo_resets_the_row_to_pending_with_no_attempts(
    db: Journal,
) -> None:
    source = Path("/in/IMG_0001.jpg")
    first = db.enqueue("p", source, A, "v1")
    assert first is not None
    claimed = db.claim_next(["p"])
    assert claimed is not None
    db.finish(first.id, journal.FAILED, reason="truncated", message="cut short")

    reshot = db.enqueue("p", source, B, "v2")

    assert reshot is not None
    assert reshot.id == first.id  # still one row per (profile, source)
    assert reshot.identity == B
    assert (reshot.state, reshot.attempts, reshot.reason, reshot.message) == (
        journal.PENDING, 0, None, None)
    assert len(db.jobs()) == 1


def test_a_photo_reshot_while_its_first_version_is_processed_is_not_marked_done(
    db: Journal,
) -> None:
    source = Path("/in/IMG_0001.jpg")
    db.enqueue("p", source, A, "v1")
    claimed = db.claim_next(["p"])
    assert claimed is not None
    job, _ = claimed

    db.enqueue("p", source, B, "v1")  # the new version settles while A is being processed
    db.finish(job.id, journal.DONE, output=Path("/out/IMG_0001.jpg"))

    row = db.lookup("p", source)
    assert row is not None
    assert (row.identity, row.state) == (B, journal.PENDING)  # B still gets processed
    again = db.claim_next(["p"])
    assert again is not None and again[0].identity == B


@pytest.mark.parametrize("ending", ["finish", "release"])
def test_a_photo_reshot_while_processing_is_never_held_by_two_workers(
    db: Journal, ending: str
) -> None:
    job = db.enqueue("p", Path("/in/a.jpg"), A, "v1")
    assert job is not None
    claimed = db.claim_next(["p"])
    assert claimed is not None
    revise(db, job.id)  # the old version's result, kept for the review page

    db.enqueue("p", Path("/in/a.jpg"), B, "v1")  # re-shot meanwhile

    assert db.claim_next(["p"]) is None  # the first worker still has it
    if ending == "finish":
        db.finish(job.id, journal.DONE, output=Path("/out/a.jpg"), published=1)
    else:
        db.release(job.id, uncount=True)
    again = the_job(db, job.id)
    assert (again.state, again.identity, again.published, again.attempts) == (
        journal.PENDING, B, None, 0)
    assert [r.status for r in db.revisions(job.id)] == [journal.DISCARDED]
    claimed_again = db.claim_next(["p"])
    assert claimed_again is not None and claimed_again[0].identity == B


# --------------------------------------------------------------------------- claiming



def test_claim_next_takes_the_oldest_due_job_of_the_given_profiles_and_counts_it(
    db: Journal,
) -> None:
    other = queue(db, "a.jpg", profile="other")
    first = queue(db, "b.jpg")
    second = queue(db, "c.jpg")

    claimed = db.claim_next(["p"])

    assert claimed is not None
    job, attempt = claimed
    assert (job.id, attempt) == (first, 1)
    row = db.lookup("p", Path("/in/b.jpg"))
    assert row is not None and (row.state, row.attempts) == (journal.PROCESSING, 1)
    nxt = db.claim_next(["p"])
    assert nxt is not None and nxt[0].id == second
    assert db.claim_next(["p"]) is None
    assert db.claim_next([]) is None
    last = db.claim_next(["p", "other"])
    assert last is not None and last[0].id == other


def test_release_with_a_delay_keeps_the_job_back_until_then(db: Journal, clock: Clock) -> None:
    job_id = queue(db, "a.jpg")
    assert db.claim_next(["p"]) is not None

    db.release(job_id, uncount=False, reason="not-ready", message="still short", delay=30)

    assert db.claim_next(["p"]) is None
    clock.now += 29.9
    assert db.claim_next(["p"]) is None
    clock.now += 0.2
    claimed = db.claim_next(["p"])
    assert claimed is not None
    assert claimed[1] == 2  # the released attempt still counts


def test_release_with_uncount_takes_the_attempt_back(db: Journal) -> None:
    job_id = queue(db, "a.jpg")
    assert db.claim_next(["p"]) is not None

    db.release(job_id, uncount=True, reason="interrupted", message="daemon stopped")

    row = db.lookup("p", Path("/in/a.jpg"))
    assert row is not None
    assert (row.state, row.attempts, row.reason) == (journal.PENDING, 0, "interrupted")
    claimed = db.claim_next(["p"])
    assert claimed is not None and claimed[1] == 1


# --------------------------------------------------------------------------- outputs



def test_reserve_output_gives_a_raw_and_a_jpeg_of_one_stem_different_names(
    db: Journal,
) -> None:
    raw = queue(db, "IMG_0001.CR2")
    jpeg = queue(db, "IMG_0001.JPG")
    wanted = Path("/out/IMG_0001.jpg")

    raw_out = db.reserve_output(raw, [wanted, Path("/out/IMG_0001-cr2.jpg")])
    jpeg_out = db.reserve_output(jpeg, [wanted, Path("/out/IMG_0001-jpg.jpg")])
    raw_again = db.reserve_output(raw, [wanted, Path("/out/IMG_0001-cr2.jpg")])

    assert raw_out == wanted
    assert jpeg_out == Path("/out/IMG_0001-jpg.jpg")
    assert raw_again == wanted  # a re-run of the same job keeps its name
    row = db.lookup("p", Path("/in/IMG_0001.JPG"))
    assert row is not None and row.output == jpeg_out


def test_an_output_has_one_owner_among_every_profiles_jobs(db: Journal) -> None:
    mine = queue(db, "IMG_0001.jpg", profile="p")
    theirs = queue(db, "IMG_0001.jpg", profile="q")
    wanted = Path("/out/IMG_0001.jpg")

    assert db.reserve_output(mine, [wanted, Path("/out/fallback.jpg")]) == wanted
    assert db.reserve_output(theirs, [wanted, Path("/out/fallback.jpg")]) == Path(
        "/out/fallback.jpg")


def test_fallback_name_taken_too_gets_the_next_candidate(db: Journal) -> None:
    first, second, third = (queue(db, n) for n in ("IMG_1.CR2", "IMG_1.JPG", "IMG_1.jpg"))
    wanted, fallback = Path("/out/IMG_1.jpg"), Path("/out/IMG_1-jpg.jpg")
    numbered = Path(f"/out/IMG_1-jpg-{third}.jpg")
    assert db.reserve_output(first, [wanted, Path("/out/IMG_1-cr2.jpg")]) == wanted
    assert db.reserve_output(second, [wanted, fallback]) == fallback
    assert db.reserve_output(third, [wanted, fallback, numbered]) == numbered
    assert db.reserve_output(third, [wanted, fallback, numbered]) == numbered


def test_a_file_studiocut_did_not_write_is_never_reserved(db: Journal, tmp_path: Path) -> None:
    job = queue(db, "shoe.jpg")
    stranger = tmp_path / "shoe.jpg"
    stranger.write_bytes(b"someone else's file")
    fallback = tmp_path / "shoe-jpg.jpg"

    assert db.reserve_output(job, [stranger, fallback]) == fallback
    fallback.write_bytes(b"our own output, from an earlier run")
    assert db.reserve_output(job, [stranger, fallback]) == fallback  # ours: replaced again


def test_no_free_name_fails_that_photo_alone(db: Journal, tmp_path: Path) -> None:
    job = queue(db, "shoe.jpg")
    (tmp_path / "shoe.jpg").mkdir()

    with pytest.raises(OutputError) as taken:
        db.reserve_output(job, [tmp_path / "shoe.jpg"])

    assert taken.value.reason == "output-taken" and not taken.value.environment


def test_finish_records_state_reason_message_and_output(db: Journal) -> None:
    done_id = queue(db, "a.jpg")
    failed_id = queue(db, "b.jpg")
    assert db.claim_next(["p"]) is not None
    assert db.claim_next(["p"]) is not None
    db.reserve_output(failed_id, [Path("/out/b.jpg"), Path("/out/b-jpg.jpg")])

    db.finish(done_id, journal.DONE, output=Path("/out/a.jpg"), seconds=1.5)
    db.finish(failed_id, journal.FAILED, reason="truncated", message="b.jpg: cut short")

    done = db.lookup("p", Path("/in/a.jpg"))
    failed = db.lookup("p", Path("/in/b.jpg"))
    assert done is not None and failed is not None
    assert (done.state, done.output, done.reason) == (journal.DONE, Path("/out/a.jpg"), None)
    assert (failed.state, failed.reason, failed.message) == (
        journal.FAILED, "truncated", "b.jpg: cut short")
    assert failed.output == Path("/out/b.jpg")  # a finish without output keeps the reserved one


# --------------------------------------------------------------------------- review flags



def test_finish_stores_the_review_flags_and_lookup_returns_them_in_order(db: Journal) -> None:
    job_id = queue(db, "a.jpg")
    assert db.claim_next(["p"]) is not None
    reasons = ("the subject touches the edge of the frame (cropped product?)",
               "2 separate subjects")

    db.finish(job_id, journal.DONE, output=Path("/out/a.jpg"), flags=reasons)

    job = db.lookup("p", Path("/in/a.jpg"))
    assert job is not None and job.flags == reasons
    assert db.jobs()[0].flags == reasons


def test_a_reshot_photo_waits_without_the_old_versions_flags(db: Journal) -> None:
    job_id = queue(db, "a.jpg")
    assert db.claim_next(["p"]) is not None
    db.finish(job_id, journal.DONE, output=Path("/out/a.jpg"), flags=("too small",))

    reshot = db.enqueue("p", Path("/in/a.jpg"), B, "v2")

    assert reshot is not None and reshot.state == journal.PENDING
    assert reshot.flags == ()


# --------------------------------------------------------------------------- recovery



def test_recover_requeues_interrupted_jobs_and_quarantines_repeat_crashers(
    db: Journal,
) -> None:
    crasher = queue(db, "crasher.jpg")
    for _ in range(2):  # two earlier crashes while it was processing
        assert db.claim_next(["p"]) is not None
        assert db.recover(max_crashes=3) == (1, 0)
    assert db.claim_next(["p"]) is not None  # processing again when the daemon died
    victim = queue(db, "victim.jpg")
    assert db.claim_next(["p"]) is not None  # first attempt, also processing
    waiting = queue(db, "waiting.jpg")

    requeued, quarantined = db.recover(max_crashes=3)

    assert (requeued, quarantined) == (1, 1)
    states = {job.id: job for job in db.jobs()}
    assert states[crasher].state == journal.FAILED
    assert states[crasher].reason == "quarantined"
    assert "3 crashes" in (states[crasher].message or "")
    assert (states[victim].state, states[victim].attempts) == (journal.PENDING, 1)
    assert states[waiting].state == journal.PENDING
    assert db.recover(max_crashes=3) == (0, 0)


def test_retries_of_a_file_that_was_not_ready_do_not_count_as_crashes(db: Journal) -> None:
    slow = queue(db, "slow.jpg")
    for _ in range(3):  # three ordinary "not ready yet" retries
        assert db.claim_next(["p"]) is not None
        db.release(slow, uncount=False)
    assert db.claim_next(["p"]) is not None  # then a power cut during the fourth attempt

    assert db.recover(max_crashes=3) == (1, 0)
    (job,) = db.jobs()
    assert job.state == journal.PENDING
