"""reports: counts, listings, flags, the oldest waiting job and the last error, per profile."""

from __future__ import annotations

from pathlib import Path

from journals import B, Clock, finished, queue
from studiocut import journal
from studiocut.journal import Journal


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
