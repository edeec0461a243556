"""review: revisions, review states, publishing, retries and the review page's views."""

from __future__ import annotations

from pathlib import Path

import pytest

from journals import B, Clock, finished, queue, revise, the_job
from studiocut import journal
from studiocut.journal import Journal


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
