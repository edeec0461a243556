"""journal: one row per (profile, source), durable, and the only place job state lives."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from studiocut import journal
from studiocut.journal import Identity, Journal


class Clock:
    """Stands in for the ``time`` module inside journal, so delays need no sleeping."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Journal]:
    j = Journal(tmp_path / "state" / "journal.db")
    yield j
    j.close()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock(1_000_000.0)
    monkeypatch.setattr(journal, "time", fake)
    return fake


A = Identity(size=1000, mtime_ns=1_700_000_000_000_000_000, inode=11)
B = Identity(size=2000, mtime_ns=1_700_000_100_000_000_000, inode=12)


def queue(db: Journal, name: str, profile: str = "p", identity: Identity = A) -> int:
    job = db.enqueue(profile, Path("/in") / name, identity, "v1")
    assert job is not None
    return job.id


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

    raw_out = db.reserve_output(raw, "p", wanted, Path("/out/IMG_0001-cr2.jpg"))
    jpeg_out = db.reserve_output(jpeg, "p", wanted, Path("/out/IMG_0001-jpg.jpg"))
    raw_again = db.reserve_output(raw, "p", wanted, Path("/out/IMG_0001-cr2.jpg"))

    assert raw_out == wanted
    assert jpeg_out == Path("/out/IMG_0001-jpg.jpg")
    assert raw_again == wanted  # a re-run of the same job keeps its name
    row = db.lookup("p", Path("/in/IMG_0001.JPG"))
    assert row is not None and row.output == jpeg_out


def test_reserve_output_is_scoped_to_the_profile(db: Journal) -> None:
    mine = queue(db, "IMG_0001.jpg", profile="p")
    theirs = queue(db, "IMG_0001.jpg", profile="q")
    wanted = Path("/out/IMG_0001.jpg")

    assert db.reserve_output(mine, "p", wanted, Path("/out/fallback.jpg")) == wanted
    assert db.reserve_output(theirs, "q", wanted, Path("/out/fallback.jpg")) == wanted


def test_finish_records_state_reason_message_and_output(db: Journal) -> None:
    done_id = queue(db, "a.jpg")
    failed_id = queue(db, "b.jpg")
    assert db.claim_next(["p"]) is not None
    assert db.claim_next(["p"]) is not None
    db.reserve_output(failed_id, "p", Path("/out/b.jpg"), Path("/out/b-jpg.jpg"))

    db.finish(done_id, journal.DONE, output=Path("/out/a.jpg"), seconds=1.5)
    db.finish(failed_id, journal.FAILED, reason="truncated", message="b.jpg: cut short")

    done = db.lookup("p", Path("/in/a.jpg"))
    failed = db.lookup("p", Path("/in/b.jpg"))
    assert done is not None and failed is not None
    assert (done.state, done.output, done.reason) == (journal.DONE, Path("/out/a.jpg"), None)
    assert (failed.state, failed.reason, failed.message) == (
        journal.FAILED, "truncated", "b.jpg: cut short")
    assert failed.output == Path("/out/b.jpg")  # a finish without output keeps the reserved one


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


def test_fallback_name_taken_too_gets_the_job_id(db: Journal) -> None:
    first, second, third = (queue(db, n) for n in ("IMG_1.CR2", "IMG_1.JPG", "IMG_1.jpg"))
    wanted, fallback = Path("/out/IMG_1.jpg"), Path("/out/IMG_1-jpg.jpg")
    assert db.reserve_output(first, "p", wanted, Path("/out/IMG_1-cr2.jpg")) == wanted
    assert db.reserve_output(second, "p", wanted, fallback) == fallback
    assert db.reserve_output(third, "p", wanted, fallback) == Path(f"/out/IMG_1-jpg-{third}.jpg")
    assert db.reserve_output(third, "p", wanted, fallback) == Path(f"/out/IMG_1-jpg-{third}.jpg")


# --------------------------------------------------------------------------- reading


def test_counts_oldest_pending_and_jobs_report_per_profile(db: Journal, clock: Clock) -> None:
    start = clock.now
    done = queue(db, "done.jpg")
    assert db.claim_next(["p"]) is not None
    db.finish(done, journal.DONE, output=Path("/out/done.jpg"))
    busy = queue(db, "busy.jpg")
    assert db.claim_next(["p"]) is not None  # processing still counts as waiting
    clock.now += 10
    queue(db, "fresh.jpg")
    queue(db, "q.jpg", profile="q")
    clock.now += 1
    db.record("p", Path("/in/link.jpg"), B, journal.IGNORED, "not-a-file", "a link")

    assert db.counts() == {
        "p": {journal.DONE: 1, journal.PROCESSING: 1, journal.PENDING: 1, journal.IGNORED: 1},
        "q": {journal.PENDING: 1},
    }
    assert db.oldest_pending() == {"p": start, "q": start + 10}
    assert [j.id for j in db.jobs(profile="p", states=(journal.DONE,))] == [done]
    assert [j.source.name for j in db.jobs(profile="p", states=(journal.PROCESSING,))] == [
        "busy.jpg"]
    assert [j.id for j in db.jobs(limit=2)] == [done, busy]
    newest = db.jobs(newest_first=True, limit=1)
    assert [j.source.name for j in newest] == ["link.jpg"]
    assert [j.source.name for j in db.pending()] == ["fresh.jpg", "q.jpg"]
    assert [j.source.name for j in db.pending("q")] == ["q.jpg"]


# --------------------------------------------------------------------------- storage


def test_a_non_utf8_file_name_round_trips(db: Journal, tmp_path: Path) -> None:
    source = tmp_path / os.fsdecode(b"caf\xe9.jpg")
    output = tmp_path / os.fsdecode(b"out-caf\xe9.jpg")

    job = db.enqueue("p", source, A, "v1")
    assert job is not None
    assert db.claim_next(["p"]) is not None
    db.finish(job.id, journal.DONE, output=output)

    row = db.lookup("p", source)
    assert row is not None
    assert os.fsencode(row.source) == os.fsencode(tmp_path) + b"/caf\xe9.jpg"
    assert row.output == output
    assert db.enqueue("p", source, A, "v1") is None  # the same bytes find the same row


def test_the_database_is_wal_with_synchronous_full(db: Journal) -> None:
    queue(db, "a.jpg")

    # journal_mode is stored in the file: any connection sees it
    fresh = sqlite3.connect(db.path)
    try:
        assert fresh.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        fresh.close()
    # synchronous belongs to the connection the journal writes with
    assert db._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_a_readonly_journal_reads_an_existing_database_and_refuses_writes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.db"
    writer = Journal(path)
    writer.enqueue("p", Path("/in/a.jpg"), A, "v1")
    reader = Journal(path, readonly=True)
    try:
        assert reader.counts() == {"p": {journal.PENDING: 1}}  # while the writer is open
        writer.close()
        assert [j.source.name for j in reader.jobs()] == ["a.jpg"]
        with pytest.raises(sqlite3.OperationalError):
            reader.enqueue("p", Path("/in/b.jpg"), B, "v1")
    finally:
        reader.close()

    again = Journal(path, readonly=True)  # after the writer closed
    try:
        assert again.lookup("p", Path("/in/a.jpg")) is not None
    finally:
        again.close()


# ===========================================================================================
# Review flags: why a finished result should be looked at. (Appended section; the tests
# above are unchanged.)
# ===========================================================================================


def test_finish_stores_the_review_flags_and_lookup_returns_them_in_order(db: Journal) -> None:
    job_id = queue(db, "a.jpg")
    assert db.claim_next(["p"]) is not None
    reasons = ("the subject touches the edge of the frame (cropped product?)",
               "2 separate subjects")

    db.finish(job_id, journal.DONE, output=Path("/out/a.jpg"), flags=reasons)

    job = db.lookup("p", Path("/in/a.jpg"))
    assert job is not None and job.flags == reasons
    assert db.jobs()[0].flags == reasons


def test_a_result_finished_without_flags_has_none(db: Journal) -> None:
    job_id = queue(db, "a.jpg")
    assert db.claim_next(["p"]) is not None

    db.finish(job_id, journal.DONE, output=Path("/out/a.jpg"))

    job = db.lookup("p", Path("/in/a.jpg"))
    assert job is not None and job.flags == ()
    assert db.flagged() == {}


def test_flagged_counts_flagged_finished_results_per_profile(db: Journal) -> None:
    ids = {name: queue(db, name) for name in ("a.jpg", "b.jpg", "c.jpg")}
    ids["w.png"] = queue(db, "w.png", profile="web")
    queue(db, "d.jpg")  # still pending: not counted
    for _ in range(3):
        assert db.claim_next(["p"]) is not None
    assert db.claim_next(["web"]) is not None

    db.finish(ids["a.jpg"], journal.DONE, output=Path("/out/a.jpg"), flags=("too small",))
    db.finish(ids["b.jpg"], journal.DONE, output=Path("/out/b.jpg"))
    db.finish(ids["c.jpg"], journal.FAILED, reason="truncated", message="c.jpg: cut short",
              flags=("too small",))  # a failed photo is not a result to review
    db.finish(ids["w.png"], journal.DONE, output=Path("/out/w.png"), flags=("unsure edges",))

    assert db.flagged() == {"p": 1, "web": 1}


def test_flags_survive_reopening_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "journal.db"
    writer = Journal(path)
    job_id = queue(writer, "a.jpg")
    assert writer.claim_next(["p"]) is not None
    writer.finish(job_id, journal.DONE, output=Path("/out/a.jpg"), flags=("low confidence",))
    writer.close()

    reader = Journal(path, readonly=True)
    try:
        assert reader.jobs()[0].flags == ("low confidence",)
        assert reader.flagged() == {"p": 1}
    finally:
        reader.close()


def test_a_reshot_photo_waits_without_the_old_versions_flags(db: Journal) -> None:
    job_id = queue(db, "a.jpg")
    assert db.claim_next(["p"]) is not None
    db.finish(job_id, journal.DONE, output=Path("/out/a.jpg"), flags=("too small",))

    reshot = db.enqueue("p", Path("/in/a.jpg"), B, "v2")

    assert reshot is not None and reshot.state == journal.PENDING
    assert reshot.flags == ()


def _old_journal(path: Path, later_columns: str, row: str) -> None:
    """A journal as an earlier version wrote it: the first jobs table, plus ``later_columns``
    (SQL column definitions), holding one ``row`` (an INSERT)."""
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE jobs (id INTEGER PRIMARY KEY, profile TEXT NOT NULL, source BLOB NOT NULL,"
        " size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, inode INTEGER NOT NULL,"
        " state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, reason TEXT, message TEXT,"
        " output BLOB, profile_version TEXT, created REAL NOT NULL, updated REAL NOT NULL,"
        f" started REAL, seconds REAL,{later_columns} UNIQUE (profile, source));{row};")
    old.close()


def test_a_journal_from_before_the_flags_and_crash_columns_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _old_journal(path, "", "INSERT INTO jobs (profile, source, size, mtime_ns, inode, state, "
                 "created, updated) VALUES ('p', X'2F696E2F612E6A7067', 1, 1, 1, 'pending', 0, 0)")

    db = Journal(path)
    claimed = db.claim_next(["p"])
    assert claimed is not None and claimed[0].source == Path("/in/a.jpg")
    db.finish(claimed[0].id, journal.DONE, flags=("looks odd",))
    assert db.jobs()[0].flags == ("looks odd",)
    db.close()


# ===========================================================================================
# The review page: revisions, review states, publishing, views and the event feed.
# (Appended section; the tests above are unchanged.)
# ===========================================================================================


def finished(db: Journal, name: str, *, profile: str = "p", state: str = journal.DONE,
             review: str = "none", published: int | None = None,
             reason: str | None = None, message: str | None = None) -> int:
    """Queue, claim and finish one photo; return its job id."""
    job_id = queue(db, name, profile)
    claimed = db.claim_next([profile])
    assert claimed is not None and claimed[0].id == job_id
    db.finish(job_id, state, output=Path("/out") / name if state == journal.DONE else None,
              review=review, published=published, reason=reason, message=message)
    return job_id


def revise(db: Journal, job_id: int, kind: str = "auto") -> journal.Revision:
    return db.add_revision(job_id, kind, {"by": kind}, (40, 30), "jpg",
                           f"{job_id}/{kind}{len(db.revisions(job_id))}")


def the_job(db: Journal, job_id: int) -> journal.Job:
    job = db.job(job_id)
    assert job is not None
    return job


def test_add_revision_numbers_each_jobs_revisions_from_1(db: Journal, clock: Clock) -> None:
    first, second = finished(db, "a.jpg"), finished(db, "b.jpg")

    made = [revise(db, first), revise(db, first, "refine"), revise(db, second),
            revise(db, first, "rerun")]

    assert [(r.job, r.number) for r in made] == [(first, 1), (first, 2), (second, 1), (first, 3)]
    rev = made[1]
    assert (rev.kind, rev.params, rev.status, rev.size, rev.ext, rev.folder, rev.created) == (
        "refine", {"by": "refine"}, journal.READY, (40, 30), "jpg", f"{first}/refine1",
        clock.now)
    assert db.revision(rev.id) == rev
    assert db.revision(9999) is None
    assert [r.number for r in db.revisions(first)] == [1, 2, 3]
    assert db.folders() == {r.folder for r in made}


def test_finish_with_a_published_revision_marks_it_published(db: Journal) -> None:
    job_id = queue(db, "a.jpg")
    assert db.claim_next(["p"]) is not None
    revise(db, job_id)

    db.finish(job_id, journal.DONE, output=Path("/out/a.jpg"), review="flagged", published=1)

    job = the_job(db, job_id)
    assert (job.review, job.published, job.undo) == ("flagged", 1, None)
    assert [r.status for r in db.revisions(job_id)] == [journal.PUBLISHED]


def test_latest_revisions_gives_each_jobs_newest_revision_not_discarded(
    db: Journal, clock: Clock
) -> None:
    a, b, c = finished(db, "a.jpg"), finished(db, "b.jpg"), finished(db, "c.jpg")
    revise(db, a)
    db.end_publish(a, 1)
    revise(db, b)
    revise(db, c)
    clock.now += 10
    revise(db, a)  # a's newest, ready
    revise(db, c)
    clock.now += 10

    discarded = db.discard_revisions(older_than=clock.now - 15)  # the old ones: a1, b1, c1

    assert sorted((r.job, r.number) for r in discarded) == [(a, 1), (b, 1), (c, 1)]
    assert the_job(db, a).published == 1  # its output stays; only the artefacts go
    latest = db.latest_revisions([a, b, c])
    assert {job: rev.number for job, rev in latest.items()} == {a: 2, c: 2}
    assert db.latest_revisions([]) == {}
    clock.now += 100
    db.discard_revisions(older_than=clock.now)  # a2 and c2 now
    assert db.latest_revisions([a, b, c]) == {}
    assert db.folders() == set()


def test_set_review_changes_only_what_it_is_given(db: Journal) -> None:
    job_id = finished(db, "a.jpg", review="held")

    db.set_review(job_id, "approved", published=2, undo='{"review": "held"}')
    job = the_job(db, job_id)
    assert (job.review, job.published, job.undo) == ("approved", 2, '{"review": "held"}')

    db.set_review(job_id, "flagged")  # published and undo left as they are
    job = the_job(db, job_id)
    assert (job.review, job.published, job.undo) == ("flagged", 2, '{"review": "held"}')

    db.set_review(job_id, "rejected", published=None, undo=None)
    job = the_job(db, job_id)
    assert (job.review, job.published, job.undo) == ("rejected", None, None)
    with pytest.raises(AssertionError):
        db.set_review(job_id, "maybe")


def test_begin_and_end_publish_track_the_revision_in_the_output(db: Journal) -> None:
    job_id = finished(db, "a.jpg")
    other = finished(db, "b.jpg")
    for _ in range(3):
        revise(db, job_id)
    db.end_publish(job_id, 1)

    db.begin_publish(job_id, 3)

    assert [j.id for j in db.interrupted_publishes()] == [job_id]
    job = the_job(db, job_id)
    assert (job.publishing, job.published) == (3, 1)

    db.end_publish(job_id, 3)

    job = the_job(db, job_id)
    assert (job.publishing, job.published) == (None, 3)
    assert db.interrupted_publishes() == []
    assert [r.status for r in db.revisions(job_id)] == [journal.READY, journal.READY,
                                                        journal.PUBLISHED]
    db.end_publish(job_id, None)  # withdrawn
    assert the_job(db, job_id).published is None
    assert {r.status for r in db.revisions(job_id)} == {journal.READY}
    assert the_job(db, other).published is None


def test_a_reshot_photo_starts_over_without_its_review_or_revisions(db: Journal) -> None:
    job_id = queue(db, "a.jpg")
    assert db.claim_next(["p"]) is not None
    revise(db, job_id)
    revise(db, job_id, "refine")
    db.finish(job_id, journal.DONE, output=Path("/out/a.jpg"), published=1,
              original=Path("/done/a.jpg"))
    db.set_review(job_id, "approved", undo='{"review": "none", "published": 1}')
    db.begin_publish(job_id, 2)

    reshot = db.enqueue("p", Path("/in/a.jpg"), B, "v2")

    assert reshot is not None and reshot.id == job_id
    assert (reshot.state, reshot.review, reshot.published, reshot.publishing, reshot.undo,
            reshot.original) == (journal.PENDING, "none", None, None, None, None)
    assert {r.status for r in db.revisions(job_id)} == {journal.DISCARDED}
    assert db.latest_revisions([job_id]) == {} and db.folders() == set()
    assert db.interrupted_publishes() == []
    assert revise(db, job_id).number == 3  # numbers go on: old folders are never reused


def test_retry_puts_only_a_failed_job_back_in_the_queue(db: Journal) -> None:
    failed = finished(db, "bad.jpg", state=journal.FAILED, reason="truncated",
                      message="bad.jpg: cut short")
    done = finished(db, "good.jpg")
    db.set_review(failed, "dismissed")

    assert not db.retry(done)
    assert db.retry(failed)

    job = the_job(db, failed)
    assert (job.state, job.attempts, job.reason, job.message, job.review) == (
        journal.PENDING, 0, None, None, "none")
    assert the_job(db, done).state == journal.DONE
    assert not db.retry(failed)  # pending now
    assert not db.retry(12345)
    last = db.events(0)[-1]
    assert (last.kind, last.job, last.data) == ("queued", failed, {"retry": True,
                                                                  "name": "bad.jpg"})


def test_views_select_the_jobs_of_each_review_page_tab(db: Journal) -> None:
    ids = {
        "none": finished(db, "none.jpg"),
        "flagged": finished(db, "flagged.jpg", review="flagged"),
        "held": finished(db, "held.jpg", review="held"),
        "approved": finished(db, "approved.jpg", review="approved"),
        "rejected": finished(db, "rejected.jpg", review="rejected"),
        "failed": finished(db, "failed.jpg", state=journal.FAILED, reason="x"),
        "dismissed": finished(db, "dismissed.jpg", state=journal.FAILED, reason="x"),
        "other": finished(db, "other.jpg", profile="q", review="held"),
    }
    db.set_review(ids["dismissed"], "dismissed")
    ids["processing"] = queue(db, "processing.jpg")
    assert db.claim_next(["p"]) is not None
    ids["pending"] = queue(db, "pending.jpg")

    def names(view: str, **kw: object) -> list[str]:
        return [j.source.stem for j in db.view(view, **kw)]  # type: ignore[arg-type]

    assert set(journal.VIEWS) == {"flagged", "all", "held", "approved", "rejected", "failed",
                                  "queue"}
    assert names("flagged") == ["flagged", "held", "other"]
    assert names("flagged", profile="p") == ["flagged", "held"]
    assert names("held") == ["held", "other"]
    assert names("approved") == ["approved"]
    assert names("rejected") == ["rejected"]
    assert names("failed") == ["failed"]
    assert names("queue") == ["processing", "pending"]
    assert names("all") == ["none", "flagged", "held", "approved", "rejected", "other"]
    assert names("all", after=ids["approved"]) == ["rejected", "other"]
    assert names("all", after=ids["none"], limit=2) == ["flagged", "held"]
    with pytest.raises(KeyError):
        db.view("everything")


def test_every_change_of_a_jobs_state_writes_one_event(db: Journal, clock: Clock) -> None:
    start = db.last_event()
    a = queue(db, "a.jpg")
    assert db.claim_next(["p"]) is not None
    db.release(a, uncount=True, reason="output-missing", message="no output folder")
    assert db.claim_next(["p"]) is not None
    db.finish(a, journal.DONE, output=Path("/out/a.jpg"))
    b = queue(db, "b.jpg", profile="q")
    assert db.claim_next(["q"]) is not None
    db.finish(b, journal.FAILED, reason="truncated", message="cut short")
    db.finish(b, journal.DONE)  # not processing: no change, no event

    found = db.events(start)

    assert [(e.kind, e.job, e.profile, e.data) for e in found] == [
        ("queued", a, "p", {"name": "a.jpg"}),
        ("processing", a, "p", {"name": "a.jpg"}),
        ("queued", a, "p", {"reason": "output-missing", "name": "a.jpg"}),
        ("processing", a, "p", {"name": "a.jpg"}),
        ("done", a, "p", {"name": "a.jpg"}),
        ("queued", b, "q", {"name": "b.jpg"}),
        ("processing", b, "q", {"name": "b.jpg"}),
        ("failed", b, "q", {"reason": "truncated", "name": "b.jpg"}),
    ]
    assert [e.id for e in found] == sorted({e.id for e in found})
    assert all(e.time == clock.now for e in found)
    assert db.last_event() == found[-1].id


def test_review_actions_write_events_too(db: Journal) -> None:
    job_id = finished(db, "a.jpg")
    start = db.last_event()

    revise(db, job_id)
    db.set_review(job_id, "approved")
    db.end_publish(job_id, 1)
    db.event("note", profile="p", data={"text": "hello"})

    assert [(e.kind, e.job, e.profile, e.data) for e in db.events(start)] == [
        ("revision", job_id, "p", {"number": 1, "kind": "auto", "name": "a.jpg"}),
        ("review", job_id, "p", {"review": "approved", "name": "a.jpg"}),
        ("published", job_id, "p", {"number": 1, "name": "a.jpg"}),
        ("note", None, "p", {"text": "hello"}),
    ]


def test_events_page_after_a_cursor(db: Journal) -> None:
    for name in ("a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg"):
        queue(db, name)
    every = db.events(0)
    assert len(every) == 5

    first = db.events(0, limit=2)
    rest = db.events(first[-1].id)

    assert first + rest == every
    assert db.events(every[-1].id) == []
    assert db.events(0, limit=2, tail=True) == every[-2:]  # the newest, oldest first


def test_prune_events_drops_old_ones_but_keeps_the_newest(db: Journal, clock: Clock) -> None:
    queue(db, "a.jpg")
    queue(db, "b.jpg")
    clock.now += 100
    queue(db, "c.jpg")
    last = db.last_event()

    db.prune_events(older_than=clock.now - 50)
    assert [e.job for e in db.events(0)] == [3]

    clock.now += 100
    db.prune_events(older_than=clock.now)  # all are old: the newest still stays
    assert [e.id for e in db.events(0)] == [last]
    assert db.last_event() == last  # so a page's cursor never goes back


def test_counts_since_counts_what_ended_since_then(db: Journal, clock: Clock) -> None:
    finished(db, "old.jpg")
    finished(db, "old-bad.jpg", state=journal.FAILED, reason="x")
    clock.now += 100
    since = clock.now
    finished(db, "a.jpg")
    finished(db, "b.jpg", review="flagged")
    finished(db, "c.jpg", review="held")
    finished(db, "d.jpg", review="approved")
    finished(db, "e.jpg", state=journal.FAILED, reason="x")
    finished(db, "w.png", profile="web", review="flagged")
    queue(db, "waiting.jpg")

    assert db.counts_since(since) == {"p": {"done": 4, "failed": 1, "flagged": 2},
                                      "web": {"done": 1, "failed": 0, "flagged": 1}}
    assert db.counts_since(clock.now + 1) == {}


def test_last_error_gives_each_profiles_most_recent_failure(db: Journal, clock: Clock) -> None:
    finished(db, "a.jpg", state=journal.FAILED, reason="x", message="a.jpg: first")
    clock.now += 10
    finished(db, "b.jpg", state=journal.FAILED, reason="x", message="b.jpg: second")
    clock.now += 10
    finished(db, "c.jpg")  # a success later does not hide the error
    finished(db, "w.png", profile="web", state=journal.FAILED, reason="x")  # no message

    assert db.last_error() == {"p": "b.jpg: second", "web": ""}


def _journal_before_the_review_page(path: Path) -> None:
    _old_journal(path, " not_before REAL NOT NULL DEFAULT 0, crashes INTEGER NOT NULL DEFAULT 0,"
                 " flags TEXT,",
                 "INSERT INTO jobs (profile, source, size, mtime_ns, inode, state, output, flags,"
                 " created, updated) VALUES ('p', X'2F696E2F612E6A7067', 1, 1, 1, 'done',"
                 " X'2F6F75742F612E6A7067', 'too small', 0, 0)")


def test_a_journal_from_before_the_review_page_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _journal_before_the_review_page(path)

    db = Journal(path)
    try:
        [job] = db.jobs()
        assert (job.source, job.output, job.flags) == (Path("/in/a.jpg"), Path("/out/a.jpg"),
                                                       ("too small",))
        assert (job.review, job.published, job.publishing, job.original, job.undo) == (
            "none", None, None, None, None)
        assert db.view("all") == [job] and db.events(0) == []
        rev = db.add_revision(job.id, "auto", {}, (4, 3), "jpg", "1/x")
        db.set_review(job.id, "approved", published=rev.number)
        db.end_publish(job.id, rev.number)
        assert the_job(db, job.id).published == 1
        assert [e.kind for e in db.events(0)] == ["revision", "review", "published"]
    finally:
        db.close()
    columns = {row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(jobs)")}
    assert {"review", "undo", "published", "publishing", "original"} <= columns


def test_a_journal_from_before_the_review_page_reads_without_an_upgrade(tmp_path: Path) -> None:
    """``studiocut status`` opens the journal read-only, so between an upgrade of the
    package and the daemon's next start it reads the old schema as it is."""
    path = tmp_path / "old.db"
    _journal_before_the_review_page(path)

    db = Journal(path, readonly=True)
    try:
        [job] = db.jobs()
        assert (job.state, job.review, job.published, job.flags) == (
            "done", "none", None, ("too small",))
    finally:
        db.close()
    columns = {row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(jobs)")}
    assert "review" not in columns


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
