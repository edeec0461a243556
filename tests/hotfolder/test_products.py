"""products: a photo's SKU (from its folder or a sidecar), its view number, and the framing
its SKU's views share; through the daemon, {sku}_{view} names and views that line up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import make_profile, product_photo
from daemon_harness import Daemon
from studiocut.errors import InputError
from studiocut.hotfolder import products
from studiocut.hotfolder.executor import Work
from studiocut.imaging import frame
from studiocut.journal import Identity, Journal


def _work(journal: Journal, root: Path, relative: str, **keys: object) -> Work:
    source = root / relative
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(b"x")
    job = journal.enqueue("test", source, Identity(1, 1, 1), "v1")
    assert job is not None
    profile = make_profile(**keys)
    return Work(job.id, source, source.parent.relative_to(root), profile)


def test_the_sku_is_the_first_folder_under_the_watched_one(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db")
    try:
        work = _work(journal, tmp_path, "AB 12/detail/x.jpg", sku="folder")
        assert products.sku_of(journal, work) == "AB 12"
        assert products.sku_of(journal, _work(journal, tmp_path, "y.jpg", sku="folder")) is None
        assert products.sku_of(journal, _work(journal, tmp_path, "AB/z.jpg")) is None
    finally:
        journal.close()


def test_the_sku_is_read_from_a_sidecar_beside_the_photo(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db")
    try:
        work = _work(journal, tmp_path, "shoot/x.jpg", sku="sidecar")
        (tmp_path / "shoot" / "x.json").write_text('{"sku": "ZX/9"}', encoding="utf-8")
        assert products.sku_of(journal, work) == "ZX_9"
        other = _work(journal, tmp_path, "shoot/y.jpg", sku="sidecar")
        assert products.sku_of(journal, other) is None
        (tmp_path / "shoot" / "sku.txt").write_text("\nFOLDER-1\n", encoding="utf-8")
        assert products.sku_of(journal, other) == "FOLDER-1"
    finally:
        journal.close()


def test_views_are_numbered_per_sku_and_kept_by_a_job(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db")
    try:
        one = products.identify(journal, _work(journal, tmp_path, "A/1.jpg", sku="folder"))
        two = products.identify(journal, _work(journal, tmp_path, "A/2.jpg", sku="folder"))
        other = products.identify(journal, _work(journal, tmp_path, "B/1.jpg", sku="folder"))
        again = products.identify(journal, one)  # a retry keeps its view
        assert [(w.product.sku, w.product.view) for w in (one, two, other, again)
                if w.product] == [("A", 1), ("A", 2), ("B", 1), ("A", 1)]
    finally:
        journal.close()


def test_a_photo_without_its_sku_fails_retryably_as_no_sku(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db")
    try:
        with pytest.raises(InputError) as caught:
            products.identify(journal, _work(journal, tmp_path, "loose.jpg", sku="sidecar"))
        assert (caught.value.reason, caught.value.retryable) == ("no-sku", True)
        assert "loose.json" in str(caught.value)
    finally:
        journal.close()


def test_a_later_view_waits_while_an_earlier_one_sets_the_framing(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db")
    keys = {"sku": "folder", "square": {"size": 200}}
    try:
        first = products.identify(journal, _work(journal, tmp_path, "A/1.jpg", **keys))
        second = products.identify(journal, _work(journal, tmp_path, "A/2.jpg", **keys))
        journal.claim_next(["test"])  # view 1 is being processed
        assert products.waits(journal, second) and not products.waits(journal, first)
        journal.keep_lineup("test", "A", "default", 0.5, 180, first.job)
        second = products.identify(journal, second)
        assert second.lineups == {"default": frame.Lineup(0.5, 180)}
        assert not products.waits(journal, second), "the framing is there: no need to wait"
        unframed = products.identify(journal, _work(journal, tmp_path, "A/3.jpg",
                                                    sku="folder"))
        assert not products.waits(journal, unframed), "no canvas: nothing to line up"
    finally:
        journal.close()


# --------------------------------------------------------------------------- through the daemon


def _alpha_box(path: Path) -> tuple[int, int, int, int]:
    with Image.open(path) as image:
        alpha = np.asarray(image)[..., 3] > 127
    rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def test_three_views_of_one_sku_share_scale_and_floor_line_within_a_pixel(
        tmp_path: Path) -> None:
    """The views of one product, shot from one distance, line up in a gallery: one scale
    (canvas pixels per source pixel) and one floor line, though fitting each on its own
    would blow the small ones up and centre each at its own height."""
    daemon = Daemon(tmp_path, {"studio": {
        "sku": "folder", "name": "{sku}_{view}.{ext}", "review": False,
        "square": {"size": 200, "margin": 0.1, "max_upscale": 4}}},
        args=["--workers", "2"])
    subjects = {"front.png": (100, 60, 300, 260), "side.png": (150, 120, 250, 260),
                "top.png": (130, 160, 270, 260)}  # 200 x 200, 100 x 140, 140 x 100 px
    folder = daemon.inbox / "SKU-42"
    folder.mkdir()

    def shoot(name: str) -> None:
        product_photo((400, 300), subjects[name]).save(folder / f".{name}.part", format="PNG")
        (folder / f".{name}.part").rename(folder / name)

    shoot("front.png")  # the first view, then the others as the photographer turns it
    daemon.start()
    try:
        daemon.wait_done(1)
        shoot("side.png")
        shoot("top.png")
        daemon.wait_done(3)
        outputs = {p.name: p for p in daemon.outputs()}
        assert sorted(outputs) == ["SKU-42_1.png", "SKU-42_2.png", "SKU-42_3.png"]
        views = {Path(j["source"]).name: j["view"] for j in daemon.jobs()}
        boxes = {name: _alpha_box(outputs[f"SKU-42_{views[name]}.png"]) for name in subjects}
        assert views["front.png"] == 1 and {views["side.png"], views["top.png"]} == {2, 3}
        first = "front.png"
        scale = (boxes[first][3] - boxes[first][1]) / (subjects[first][3] - subjects[first][1])
        for name, (x0, y0, x1, y1) in boxes.items():
            sx0, sy0, sx1, sy1 = subjects[name]
            assert abs((x1 - x0) - scale * (sx1 - sx0)) <= 1, (name, boxes)
            assert abs((y1 - y0) - scale * (sy1 - sy0)) <= 1, (name, boxes)
            assert abs(y1 - boxes[first][3]) <= 1, ("floor line", name, boxes)
    finally:
        daemon.stop()


def test_a_barcode_card_names_the_photos_after_it_and_is_not_published(
        tmp_path: Path) -> None:
    import zxingcpp

    import barcode_scenes as scenes

    daemon = Daemon(tmp_path, {"studio": {
        "sku": "barcode", "name": "{sku}_{view}.{ext}", "review": False,
        "after": {"move": str(tmp_path / "done")}, "failed": str(tmp_path / "failed")}})
    folder = daemon.inbox / "session"
    folder.mkdir()

    def put(name: str, pixels: np.ndarray) -> None:
        Image.fromarray(pixels).save(folder / f".{name}.part", format="PNG")
        (folder / f".{name}.part").rename(folder / name)

    daemon.start()
    try:
        put("loose.png", np.asarray(product_photo((400, 300))))  # before any card
        daemon.wait_states({"loose.png": "failed"})
        put("card.png", scenes.card([scenes.code("4006381333931", zxingcpp.BarcodeFormat.EAN13)]))
        daemon.wait_states({"card.png": "ignored"})
        put("front.png", np.asarray(product_photo((400, 300))))
        put("back.png", np.asarray(product_photo((400, 300), (100, 60, 300, 260))))
        daemon.wait_states({"front.png": "done", "back.png": "done"})

        rows = {Path(j["source"]).name: j for j in daemon.jobs()}
        assert rows["loose.png"]["reason"] == "no-sku"
        assert rows["card.png"]["reason"] == "barcode-card"
        assert "4006381333931" in rows["card.png"]["message"]
        assert sorted(p.name for p in daemon.outputs()) == [
            "4006381333931_1.png", "4006381333931_2.png"], "the card itself is not published"
        assert (tmp_path / "done" / "session" / "card.png").exists(), "archived as a done one"
    finally:
        daemon.stop()


def test_an_outputs_xmp_names_its_sku_view_and_revision(tmp_path: Path) -> None:
    import io

    from conftest import FakeModel
    from image_files import xmp_properties
    from studiocut.hotfolder.executor import LocalExecutor
    from studiocut.imaging import metadata

    class Models:
        def running(self, name: str) -> tuple[object, FakeModel]:
            return work.profile, FakeModel()

    journal = Journal(tmp_path / "journal.db")
    try:
        source = tmp_path / "AB-7" / "front.jpg"
        source.parent.mkdir()
        product_photo().save(source, quality=95)
        job = journal.enqueue("test", source, Identity(1, 1, 1), "v1")
        assert job is not None
        work = products.identify(journal, Work(
            job.id, source, Path("AB-7"), make_profile(sku="folder", renditions=[
                {"name": "a"}, {"name": "b", "folder": "b"}]), revision=3))
        result = LocalExecutor(Models(), workers=1).run(work)  # type: ignore[arg-type]
        assert result.ok, result.message
        for rendered in result.renditions:
            with Image.open(io.BytesIO(rendered.data)) as image:
                xmp = metadata.read(image, source=rendered.name).xmp
            assert xmp is not None
            found = xmp_properties(xmp)
            assert (found["studiocut:SKU"], found["studiocut:View"],
                    found["studiocut:Revision"]) == (["AB-7"], ["1"], ["3"])
    finally:
        journal.close()
