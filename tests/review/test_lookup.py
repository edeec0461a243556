"""lookup: an action on a job, revision or profile that is not there is refused with a
reason and the HTTP status the page answers with.

Each photo goes through the worker's steps (enqueue, claim, ``pipeline.process`` with
``holding`` and ``keep``, ``Desk.keep``, finish) with the fake model, in tmp folders
(tests/desk_bench.py)."""

from __future__ import annotations

import pytest

from conftest import product_photo
from desk_bench import REMOVE_MIDDLE, Bench
from studiocut.journal import Identity
from studiocut.review.lookup import Refused
from studiocut.review.refine import BadEdit


def test_unknown_jobs_and_revisions_are_404(bench: Bench) -> None:
    job_id = bench.shoot()
    for action in (lambda: bench.desk.approve(999), lambda: bench.desk.reject(999),
                   lambda: bench.desk.unreview(999), lambda: bench.desk.retry(999),
                   lambda: bench.desk.dismiss(999), lambda: bench.desk.publish(999),
                   lambda: bench.desk.refine(999, {}), lambda: bench.desk.rerun(999),
                   lambda: bench.desk.refine(job_id, {}, base_number=5)):
        with pytest.raises(Refused) as refused:
            action()
        assert refused.value.status == 404, refused.value


def test_actions_on_a_photo_without_a_result_are_409(bench: Bench) -> None:
    source = bench.watch / "waiting.jpg"
    product_photo().save(source)
    queued = bench.journal.enqueue("test", source, Identity.of(source.stat()), "v1")
    assert queued is not None

    for action in (bench.desk.approve, bench.desk.reject, bench.desk.unreview,
                   bench.desk.rerun):
        with pytest.raises(Refused, match=r"waiting.jpg has no finished result \(it is "
                           "pending\\)") as refused:
            action(queued.id)
        assert refused.value.status == 409


def test_actions_of_a_profile_that_is_not_running_are_refused(bench: Bench) -> None:
    job_id = bench.shoot()
    del bench.profiles.table["test"]

    with pytest.raises(Refused, match="profile test is not running") as refused:
        bench.desk.refine(job_id, REMOVE_MIDDLE)

    assert refused.value.status == 409


def test_a_bad_refine_request_is_a_bad_edit(bench: Bench) -> None:
    job_id = bench.shoot()

    with pytest.raises(BadEdit, match="outside the 400 x 300 image"):
        bench.desk.refine(job_id, {"points": [{"x": 400, "y": 10, "label": 1}]})
