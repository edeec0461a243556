"""products: view numbers per SKU, kept by each job, and the framing a SKU's first view set."""

from __future__ import annotations

from pathlib import Path

from journals import queue
from studiocut.journal import Journal


def test_views_count_per_profile_and_sku_and_a_job_keeps_its_own(tmp_path: Path) -> None:
    db = Journal(tmp_path / "j.db")
    a, b, c, d = (queue(db, f"{n}.jpg") for n in "abcd")

    assert [db.view_of(a, "p", "S1"), db.view_of(b, "p", "S1"), db.view_of(c, "p", "S2"),
            db.view_of(d, "q", "S1")] == [1, 2, 1, 1]
    assert db.view_of(a, "p", "S1") == 1, "a retry keeps its view"
    assert db.view_of(a, "p", "S3") == 1, "moved to another SKU: numbered there"


def test_a_job_s_product_is_its_sku_and_view_once_numbered(tmp_path: Path) -> None:
    db = Journal(tmp_path / "j.db")
    a, b = queue(db, "a.jpg"), queue(db, "b.jpg")
    db.view_of(a, "p", "S1")
    db.view_of(b, "p", "S1")

    assert db.product_of(b) == ("S1", 2)
    assert db.product_of(queue(db, "c.jpg")) is None  # a profile without an sku key
    assert db.product_of(999) is None


def test_the_first_lineup_of_a_rendition_stays(tmp_path: Path) -> None:
    db = Journal(tmp_path / "j.db")
    db.keep_lineup("p", "S1", "white", 0.5, 1800, 1)
    db.keep_lineup("p", "S1", "white", 0.9, 1500, 2)
    db.keep_lineup("p", "S1", "zalando", 0.3, 1300, 2)

    assert db.lineups("p", "S1") == {"white": (0.5, 1800), "zalando": (0.3, 1300)}
    assert db.lineups("p", "S2") == {}


def test_only_an_earlier_view_in_progress_makes_a_later_one_wait(tmp_path: Path) -> None:
    db = Journal(tmp_path / "j.db")
    first, second = queue(db, "a.jpg"), queue(db, "b.jpg")
    db.view_of(first, "p", "S1")
    db.view_of(second, "p", "S1")
    assert not db.earlier_view_in_progress("p", "S1", 2)
    db.claim_next(["p"])  # the first view
    assert db.earlier_view_in_progress("p", "S1", 2)
    assert not db.earlier_view_in_progress("p", "S1", 1)
