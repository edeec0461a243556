"""Listing outputs on the cluster, with real parts (a redis-server, ``studiocut worker``
subprocesses, the station as a real ``studiocut run``): every rendition made on a worker from
one cut-out and published by the station all or none; SKUs, views and barcode cards decided
on the station, the views of a SKU lined up by the framing its first view set on a worker;
the profile's shadow made on the worker."""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from cluster_harness import Cluster
from conftest import product_photo
from daemon_harness import shoot, valid_image
from studiocut.imaging import metadata, pipeline
from studiocut.imaging.metadata import Own
from studiocut.models import predict
from studiocut.profiles import load
from studiocut.profiles.schema import Shadow

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server is not installed (Debian: redis-server)")


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[Cluster]:
    pytest.importorskip("celery", reason="the cluster extra (celery[redis]) is not installed")
    cluster = Cluster(tmp_path)
    cluster.configure()
    try:
        yield cluster
    finally:
        cluster.close()


def attempts(text: str, name: str) -> int:
    return text.count(f"{name}: attempt ")


def rows(studio: Cluster, query: str) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(studio.root / "state" / "journal.db", timeout=10)
    try:
        return db.execute(query).fetchall()
    finally:
        db.close()


def looks(data: bytes) -> tuple[str, bytes, bytes | None]:
    """An encoded image's mode, pixels and XMP: what two makes of one photo share. (Not
    its bytes: the sRGB profile studiocut embeds is built once per process, dated then.)"""
    with Image.open(io.BytesIO(data)) as image:
        return image.mode, image.tobytes(), image.info.get("xmp")


RENDITIONS = [{"name": "cutout"},
              {"name": "white", "backdrop": "#ffffff", "format": "jpeg",
               "square": {"size": 200}, "folder": "white"}]
SHADOW = {"contact": {"opacity": 0.9, "blur": 0.02}}


def test_every_rendition_is_made_from_one_cutout_on_a_worker_and_published_together(
        studio: Cluster) -> None:
    """Each photo is one job (one cut-out) on the worker; every rendition comes back, is
    published by the station, recorded in its journal and kept for its review page, pixel
    for pixel and with the XMP this machine's pipeline makes of the photo with the same
    profile and revision number: the shadow included."""
    worker = studio.worker()
    station = studio.make_station(review=True, renditions=RENDITIONS, shadow=SHADOW)
    sources = [shoot(station.inbox / f"photo{i}.jpg", colour=(200, 20 + i, 30))
               for i in range(2)]
    station.start()
    station.wait_done(2, timeout=40)
    station.stop()

    names = [s.name for s in sources]
    studio.check(names, outputs=[f"{s.stem}.png" for s in sources]
                 + [f"white/{s.stem}.jpg" for s in sources])
    assert all(attempts(worker.text(), n) == 1 for n in names)
    recorded = rows(studio, "SELECT rendition, state FROM outputs ORDER BY job, rendition")
    assert recorded == [("cutout", "published"), ("white", "published")] * 2
    kept = rows(studio, "SELECT number, params FROM revisions ORDER BY job")
    assert [(n, [r["name"] for r in json.loads(p)["renditions"]]) for n, p in kept] == [
        (1, ["cutout", "white"])] * 2
    profile = load(station.profiles / "studio.yaml")
    model = predict.open_model(profile.model_request(threads=1))
    for source in sources:
        made = pipeline.make(source, model, profile, keep=False, own=Own(revision="1"))
        published = [station.outbox / f"{source.stem}.png",
                     station.outbox / "white" / f"{source.stem}.jpg"]
        for path, rendered in zip(published, made.renditions, strict=True):
            assert looks(path.read_bytes()) == looks(rendered.data), path
        plain = pipeline.make(source, model, dataclasses.replace(profile, shadow=Shadow()),
                              keep=False, own=Own(revision="1"))
        assert looks(published[1].read_bytes()) != looks(plain.renditions[1].data), "shadow"


def test_a_station_killed_between_two_renames_finishes_the_group_at_restart(
        studio: Cluster) -> None:
    """The station publishes a cluster result's renditions as it does a local one's: a
    kill between their renames is finished at the next start, never half published."""
    studio.worker()
    station = studio.make_station(faults="between-renames:kill:crash", renditions=[
        {"name": "a"}, {"name": "b", "suffix": "_b"}, {"name": "c", "folder": "c"}])
    shoot(station.inbox / "crash.jpg")
    station.start(wait=False)
    assert station.wait_exit(40) == -9, station.text()[-3000:]
    on_disk = sorted(p.name for p in station.outbox.rglob("*") if p.is_file())
    assert "crash.png" in on_disk and "crash_b.png" not in on_disk, on_disk  # half way

    station.faults = ""
    station.start()
    station.wait_states({"crash.jpg": "done"}, timeout=40)
    assert "finished publishing its renditions after an unclean stop" in station.text()
    station.stop()
    studio.check(["crash.jpg"], outputs=["c/crash.png", "crash.png", "crash_b.png"])
    assert all(valid_image(p) for p in station.outputs())


def _alpha_box(path: Path) -> tuple[int, int, int, int]:
    with Image.open(path) as image:
        alpha = np.asarray(image)[..., 3] > 127
    ys, xs = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    return int(xs[0]), int(ys[0]), int(xs[-1]) + 1, int(ys[-1]) + 1


def test_the_views_of_a_sku_line_up_with_the_framing_its_first_view_set_on_a_worker(
        studio: Cluster) -> None:
    """The station names the views and records the scale and floor line the worker
    reports for the first; the later views go out with them and keep them (fitted each on
    its own, the small ones would be blown up and centred at their own heights)."""
    studio.worker()
    station = studio.make_station(
        workers=2, sku="folder", name="{sku}_{view}.{ext}", review=False,
        square={"size": 200, "margin": 0.1, "max_upscale": 4})
    subjects = {"front.png": (100, 60, 300, 260), "side.png": (150, 120, 250, 260),
                "top.png": (130, 160, 270, 260)}  # 200 x 200, 100 x 140, 140 x 100 px
    folder = station.inbox / "SKU-42"
    folder.mkdir()

    def put(name: str) -> None:
        product_photo((400, 300), subjects[name]).save(folder / f".{name}.part", format="PNG")
        (folder / f".{name}.part").rename(folder / name)

    put("front.png")
    station.start()
    station.wait_done(1, timeout=40)
    put("side.png")
    put("top.png")
    station.wait_done(3, timeout=40)
    station.stop()

    studio.check(list(subjects), outputs=[f"SKU-42/SKU-42_{v}.png" for v in (1, 2, 3)])
    views = {Path(j["source"]).name: j["view"] for j in station.jobs()}
    assert views["front.png"] == 1 and {views["side.png"], views["top.png"]} == {2, 3}
    [(scale, floor)] = rows(studio, "SELECT scale, floor FROM lineups WHERE sku = 'SKU-42'")
    published = {name: station.outbox / "SKU-42" / f"SKU-42_{views[name]}.png"
                 for name in subjects}
    boxes = {name: _alpha_box(path) for name, path in published.items()}
    for name, (x0, y0, x1, y1) in boxes.items():
        sx0, sy0, sx1, sy1 = subjects[name]
        assert abs((x1 - x0) - scale * (sx1 - sx0)) <= 1, (name, scale, boxes)
        assert abs((y1 - y0) - scale * (sy1 - sy0)) <= 1, (name, scale, boxes)
        assert abs(y1 - floor) <= 1, ("floor line", name, floor, boxes)
        with Image.open(published[name]) as image:
            xmp = metadata.read(image, source=name).xmp
        assert xmp is not None and b"SKU-42" in xmp, "studiocut's XMP names the SKU"


def test_a_barcode_card_is_read_on_the_station_and_names_the_photos_the_workers_make(
        studio: Cluster) -> None:
    zxingcpp = pytest.importorskip("zxingcpp")
    import barcode_scenes as scenes

    worker = studio.worker()
    station = studio.make_station(sku="barcode", name="{sku}_{view}.{ext}", review=False)
    folder = station.inbox / "session"
    folder.mkdir()

    def put(name: str, pixels: np.ndarray) -> None:
        Image.fromarray(pixels).save(folder / f".{name}.part", format="PNG")
        (folder / f".{name}.part").rename(folder / name)

    station.start()
    put("card.png", scenes.card([scenes.code("4006381333931",
                                             zxingcpp.BarcodeFormat.EAN13)]))
    station.wait_states({"card.png": "ignored"}, timeout=30)
    put("front.png", np.asarray(product_photo((400, 300))))
    put("back.png", np.asarray(product_photo((400, 300), (100, 60, 300, 260))))
    station.wait_states({"card.png": "ignored", "front.png": "done", "back.png": "done"},
                        timeout=40)
    station.stop()

    assert sorted(p.name for p in station.outputs()) == [
        "4006381333931_1.png", "4006381333931_2.png"], "the card itself is not published"
    assert attempts(worker.text(), "card.png") == 0, "a card never goes to the cluster"
    jobs = {Path(j["source"]).name: j["id"] for j in station.jobs()}
    assert sorted(r["job"] for r in studio.outbox()) == sorted(
        (jobs["front.png"], jobs["back.png"]))
    assert not [p for p in studio.spool.rglob("*") if p.is_file()]
