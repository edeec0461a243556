"""events: one event for every change of a job, paged after a cursor, pruned by age."""

from __future__ import annotations

from pathlib import Path

from journals import Clock, finished, queue, revise
from studiocut import journal
from studiocut.journal import Journal


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
