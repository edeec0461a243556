"""batch: one run's memory of SKUs: views in the run's order, and a later view that waits
for the framing an earlier one of its SKU is to set, as the daemon's workers do."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conftest import make_profile
from studiocut.cli import batch
from studiocut.hotfolder import products
from studiocut.hotfolder.executor import Work


def _work(number: int, tmp_path: Path, relative: str) -> Work:
    profile = make_profile(sku="folder", name="{stem}-{sku}_{view}.{ext}",
                           square={"size": 100})
    return Work(number, tmp_path / relative, Path(relative).parent, profile)


def test_views_are_numbered_per_sku_in_the_order_asked_and_kept_by_a_photo(
        tmp_path: Path) -> None:
    catalogue = batch.RunCatalogue()
    found = [products.identify(catalogue, _work(n, tmp_path, rel)) for n, rel in enumerate(
        ("A/1.jpg", "B/1.jpg", "A/2.jpg"), start=1)]
    again = products.identify(catalogue, found[0])

    assert [(w.product.sku, w.product.view) for w in (*found, again) if w.product] == [
        ("A", 1), ("B", 1), ("A", 2), ("A", 1)]


def test_a_later_view_is_ready_once_the_first_has_set_the_framing(tmp_path: Path) -> None:
    catalogue = batch.RunCatalogue()
    first = products.identify(catalogue, _work(1, tmp_path, "A/1.jpg"))
    later = products.identify(catalogue, _work(2, tmp_path, "A/2.jpg"))
    assert products.waits(catalogue, later)
    got: list[Work] = []
    waiter = threading.Thread(target=lambda: got.append(catalogue.ready(later)))
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive(), "it waits while the first view is being made"

    catalogue.keep_lineup("test", "A", "default", 0.5, 90, first.job)
    catalogue.finished(first)
    waiter.join(5)

    assert not waiter.is_alive()
    assert [dict(w.lineups) for w in got] == [{"default": products.frame.Lineup(0.5, 90)}]


def test_a_view_that_fails_before_it_is_made_holds_no_later_view(tmp_path: Path) -> None:
    catalogue = batch.RunCatalogue()
    bad = _work(1, tmp_path, "A/x\\y.jpg")  # its output's name would hold a backslash
    with ThreadPoolExecutor(1) as reading:
        planned = batch.plan([(bad.source, bad.subfolder), (tmp_path / "A/2.jpg", Path("A"))],
                             bad.profile, catalogue, output_root=tmp_path / "out",
                             reading=reading)

    assert planned[0].failure is not None and planned[0].failure.reason == "bad-name"
    later = planned[1].work
    assert later.product is not None and later.product.view == 2
    assert not products.waits(catalogue, later)
