"""outputs: each rendition's output name, owned by one job among all, and the groups being
published, recorded so that a crash between two renames is finished at the next start."""

from __future__ import annotations

from pathlib import Path

import pytest

from journals import queue
from studiocut.errors import OutputError
from studiocut.journal import Journal

OUT = Path("/out")


def _wanted(stem: str) -> list[tuple[str, list[Path]]]:
    return [("white", [OUT / f"{stem}.jpg", OUT / f"{stem}-2.jpg"]),
            ("cutout", [OUT / "png" / f"{stem}.png", OUT / "png" / f"{stem}-2.png"])]


def test_each_rendition_gets_its_name_and_the_first_is_the_jobs_output(tmp_path: Path) -> None:
    db = Journal(tmp_path / "j.db")
    job = queue(db, "a.jpg")

    chosen = db.reserve_outputs(job, _wanted("a"), exists=lambda p: False)

    assert chosen == [OUT / "a.jpg", OUT / "png" / "a.png"]
    assert db.outputs_of(job) == [("white", OUT / "a.jpg"), ("cutout", OUT / "png" / "a.png")]
    found = db.job(job)
    assert found is not None and found.output == OUT / "a.jpg"


def test_a_name_another_job_owns_in_any_rendition_is_not_taken(tmp_path: Path) -> None:
    db = Journal(tmp_path / "j.db")
    first, second = queue(db, "a.jpg"), queue(db, "a.tif")
    db.reserve_outputs(first, _wanted("a"), exists=lambda p: False)

    assert db.reserve_outputs(second, _wanted("a"), exists=lambda p: False) == [
        OUT / "a-2.jpg", OUT / "png" / "a-2.png"]
    # a single output's reservation sees the renditions' names too
    third = queue(db, "a.png")
    assert db.reserve_output(third, [OUT / "png" / "a.png", OUT / "a-3.png"],
                             exists=lambda p: False) == OUT / "a-3.png"


def test_a_job_keeps_its_own_names_and_refuses_when_every_one_is_taken(tmp_path: Path) -> None:
    db = Journal(tmp_path / "j.db")
    job = queue(db, "a.jpg")
    db.reserve_outputs(job, _wanted("a"), exists=lambda p: False)
    assert db.reserve_outputs(job, _wanted("a"), exists=lambda p: True)[0] == OUT / "a.jpg"

    other = queue(db, "b.jpg")
    with pytest.raises(OutputError) as caught:
        db.reserve_outputs(other, _wanted("b"), exists=lambda p: True)  # files not ours
    assert caught.value.reason == "output-taken" and "rendition white" in str(caught.value)
    assert db.outputs_of(other) == [], "nothing reserved: all or none"


def test_a_staged_group_is_listed_until_it_is_ended(tmp_path: Path) -> None:
    db = Journal(tmp_path / "j.db")
    job = queue(db, "a.jpg")
    db.reserve_outputs(job, _wanted("a"), exists=lambda p: False)
    pairs = [(OUT / ".a.jpg.1.studiocut.tmp", OUT / "a.jpg"),
             (OUT / "png" / ".a.png.2.studiocut.tmp", OUT / "png" / "a.png")]

    db.stage_outputs(job, pairs)
    db.close()
    db = Journal(tmp_path / "j.db")  # as after a crash
    assert db.staged_outputs() == {job: pairs}
    db.end_outputs(job)
    assert db.staged_outputs() == {}


def test_renditions_dropped_from_the_profile_are_forgotten(tmp_path: Path) -> None:
    db = Journal(tmp_path / "j.db")
    job = queue(db, "a.jpg")
    db.reserve_outputs(job, _wanted("a"), exists=lambda p: False)
    db.reserve_outputs(job, _wanted("a")[1:], exists=lambda p: False)
    assert db.outputs_of(job) == [("cutout", OUT / "png" / "a.png")]


def test_the_outputs_of_many_jobs_are_read_at_once_in_each_jobs_order(tmp_path: Path) -> None:
    db = Journal(tmp_path / "j.db")
    jobs = [queue(db, f"{n}.jpg") for n in range(3)]
    db.reserve_outputs(jobs[0], _wanted("a"), exists=lambda p: False)
    db.reserve_outputs(jobs[2], _wanted("c"), exists=lambda p: False)

    found = db.outputs_by_job(jobs)

    assert found == {jobs[0]: [("white", OUT / "a.jpg"), ("cutout", OUT / "png" / "a.png")],
                     jobs[2]: [("white", OUT / "c.jpg"), ("cutout", OUT / "png" / "c.png")]}
    assert db.outputs_by_job([]) == {}
    assert db.outputs_by_job(list(range(-600, 0)) + jobs[:1]) == {jobs[0]: found[jobs[0]]}


def test_a_journal_from_before_renditions_read_only_has_no_outputs_to_list(
        tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "j.db"
    Journal(path).close()
    raw = sqlite3.connect(path)
    raw.execute("DROP TABLE outputs")  # as studiocut 0.1 left it
    raw.commit()
    raw.close()
    db = Journal(path, readonly=True)
    try:
        assert db.outputs_by_job([1, 2]) == {}
    finally:
        db.close()
