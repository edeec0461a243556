"""The station's cluster executor in process: a result bundle becomes the same Result the
local executor gives; a broker that cannot be reached sends the photo to the local executor
when the profile says so. (The real round trips are in test_faults.)"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from conftest import make_profile
from daemon_harness import photo_bytes
from studiocut import journal
from studiocut.cluster import config, recipe, spool
from studiocut.hotfolder.executor import Result, Work
from studiocut.imaging import frame
from studiocut.imaging.metadata import Metadata
from studiocut.imaging.naming import Product
from studiocut.profiles import Profile

pytest.importorskip("celery", reason="the cluster extra (celery[redis]) is not installed")
from studiocut.cluster.station import ClusterExecutor


class Here:
    """A local executor that says it ran."""

    def __init__(self) -> None:
        self.ran: list[Work] = []

    def run(self, work: Work) -> Result:
        self.ran.append(work)
        return Result(work.source, 0.1, b"made here")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[journal.Journal]:
    found = journal.Journal(tmp_path / "journal.db")
    yield found
    found.close()


def executor(tmp_path: Path, db: journal.Journal, here: Here) -> ClusterExecutor:
    cluster = config.parse({"broker": "redis://127.0.0.1:9/0", "spool": str(tmp_path / "spool"),
                            "queues": ["cutout"], "broker_down_after": 0,
                            "socket_connect_timeout": 0.2, "socket_timeout": 0.2},
                           source=Path("cluster.yaml"))
    return ClusterExecutor(cluster, db, here)


def work_for(tmp_path: Path, profile: Profile, *, keep: bool = False) -> Work:
    source = tmp_path / "in" / "IMG_1.jpg"
    source.parent.mkdir(exist_ok=True)
    source.write_bytes(photo_bytes())
    return Work(1, source, Path(), profile, keep=keep)


PROFILE = {"executor": "cluster", "queue": "cutout"}


def test_a_bundle_becomes_the_result_and_the_station_removes_its_files(
        tmp_path: Path, db: journal.Journal) -> None:
    work = work_for(tmp_path, make_profile(**PROFILE), keep=True)
    data = work.source.read_bytes()
    key = spool.job_key(data, recipe.of(work.profile))
    root = tmp_path / "spool"
    signals = {"uncertain": 0.1, "touches_border": False, "area": 0.3, "subjects": 1,
               "confidence": 0.9}
    layout = {"crop": [0, 0, 4, 4], "placed": [4, 4], "canvas": [4, 4], "offset": [0, 0],
              "scale": 1.0, "cut": [], "lineup": None}
    spool.write_bundle(root, key, {"status": "ok", "flags": ["a look"], "signals": signals,
                                   "renditions": [{"name": "default", "flags": ["a look"],
                                                   "layout": layout}],
                                   "worker": "w1@gpu:7"},
                       output=b"cut out", layers=(np.zeros((4, 4, 3), np.uint8),
                                                  np.ones((4, 4), np.float32)),
                       files={"icc": b"icc", "exif": b"Exif\x00\x00", "xmp": b"<x/>"})
    cluster = executor(tmp_path, db, Here())
    try:
        result = cluster.run(work)
    finally:
        cluster.release()

    assert result.data == b"cut out" and result.flags == ("a look",)
    assert result.signals is not None and result.signals.area == 0.3
    assert result.framed is not None and result.framed.alpha.shape == (4, 4)
    assert result.framed.icc == b"icc"  # what the review page encodes a refine with
    assert result.framed.metadata == Metadata(exif=b"Exif\x00\x00", xmp=b"<x/>")
    assert result.framed.layout == frame.Layout((0, 0, 4, 4), (4, 4), (4, 4), (0, 0))
    assert [(r.name, r.data) for r in result.renditions] == [("default", b"cut out")]
    remote = db.remote(1)
    assert remote is not None and (remote.state, remote.worker) == ("done", "w1@gpu:7")
    assert not [p for p in root.rglob("*") if p.is_file()]


def test_every_rendition_comes_back_with_its_layout_for_the_publisher(
        tmp_path: Path, db: journal.Journal) -> None:
    """A SKU's view goes out with its lineup (part of the job key), and each rendition comes
    back with its bytes, flags and layout: the scale and floor line the station records
    for the SKU, the lineup followed, the sides the photo's edge cut."""
    profile = make_profile(**PROFILE, sku="folder", square={"size": 100}, renditions=[
        {"name": "white"}, {"name": "cut", "backdrop": "transparent", "folder": "cut"},
        {"name": "tall", "canvas": {"width": 60, "height": 90}, "suffix": "_t"}])
    lineups = {"white": frame.Lineup(0.25, 90)}
    work = dataclasses.replace(work_for(tmp_path, profile), product=Product("AB-7", 2),
                               lineups=lineups)
    key = spool.job_key(work.source.read_bytes(), recipe.of(
        profile, product=Product("AB-7", 2), lineups=lineups))
    layouts = [frame.Layout((0, 0, 8, 8), (2, 2), (100, 100), (49, 88), 0.25,
                            frame.Lineup(0.25, 90)),
               frame.Layout((0, 0, 8, 8), (4, 4), (100, 100), (48, 48), 0.5),
               frame.Layout((1, 2, 8, 8), (6, 5), (60, 90), (0, 85), 0.75,
                            cut=frozenset({"left", "bottom"}))]
    spool.write_bundle(tmp_path / "spool", key, {
        "status": "ok", "flags": ["cut: a look"], "renditions": [
            {"name": name, "flags": flags, "layout": spool.written_layout(layout)}
            for name, flags, layout in zip(("white", "cut", "tall"), ([], ["cut: a look"], []),
                                           layouts, strict=True)]},
        output=b"white", more=[b"cut", b"tall"])
    cluster = executor(tmp_path, db, Here())
    try:
        result = cluster.run(work)
    finally:
        cluster.release()

    assert result.data == b"white" and result.flags == ("cut: a look",)
    assert [(r.name, r.data, r.flags, r.layout) for r in result.renditions] == [
        ("white", b"white", (), layouts[0]), ("cut", b"cut", ("cut: a look",), layouts[1]),
        ("tall", b"tall", (), layouts[2])]
    assert result.renditions[2].layout.floor == 90


def test_a_failed_bundle_names_the_station_s_file(tmp_path: Path,
                                                 db: journal.Journal) -> None:
    work = work_for(tmp_path, make_profile(**PROFILE))
    data = work.source.read_bytes()
    key = spool.job_key(data, recipe.of(work.profile))
    root = tmp_path / "spool"
    spooled = root / spool.input_path(data, ".jpg")
    spool.write_bundle(root, key, {"status": "failed", "reason": "not-an-image",
                                   "message": f"{spooled}: not an image"})
    cluster = executor(tmp_path, db, Here())
    try:
        result = cluster.run(work)
    finally:
        cluster.release()

    assert (result.reason, result.message) == ("not-an-image", f"{work.source}: not an image")
    assert not result.retryable and not result.environment


@pytest.mark.parametrize("damage", ["no-layout", "no-output", "bad-signals"])
def test_a_damaged_bundle_is_this_photo_s_retry_not_an_internal_error(
        tmp_path: Path, db: journal.Journal, damage: str) -> None:
    """A bundle cut short or damaged on the shared spool fails only this try, retryable
    (sent again), with the reason in the message; its files are tidied away."""
    work = work_for(tmp_path, make_profile(**PROFILE))
    key = spool.job_key(work.source.read_bytes(), recipe.of(work.profile))
    root = tmp_path / "spool"
    layout = {"crop": [0, 0, 4, 4], "placed": [4, 4], "canvas": [4, 4], "offset": [0, 0],
              "scale": 1.0, "cut": [], "lineup": None}
    rendition = {"name": "default", "flags": []}
    if damage != "no-layout":
        rendition["layout"] = layout
    meta = {"status": "ok", "renditions": [rendition], "worker": "w1@gpu:7"}
    if damage == "bad-signals":
        meta["signals"] = {"not a field": 1}
    spool.write_bundle(root, key, meta, output=b"cut out")
    if damage == "no-output":
        (next(root.rglob(spool.rendition_file(0)))).unlink()
    cluster = executor(tmp_path, db, Here())
    try:
        result = cluster.run(work)
    finally:
        cluster.release()

    assert result.reason == "cluster-result" and result.retryable and not result.environment
    assert result.message is not None and result.message.startswith(f"{work.source}: ")
    remote = db.remote(1)
    assert remote is not None and remote.state == "failed"
    assert not [p for p in root.rglob("*") if p.is_file()]


def test_with_the_broker_unreachable_a_local_profile_runs_here(tmp_path: Path,
                                                              db: journal.Journal) -> None:
    here = Here()
    work = work_for(tmp_path, make_profile(**PROFILE, on_broker_down="local"))
    cluster = executor(tmp_path, db, here)
    try:
        result = cluster.run(work)
        report = cluster.report()
    finally:
        cluster.release()

    assert result.data == b"made here" and here.ran == [work]
    remote = db.remote(1)
    assert remote is not None and (remote.state, remote.sends) == ("done", 0)
    assert report["broker"]["state"] == "down" and report["broker"]["since"] is not None
    assert not [p for p in (tmp_path / "spool").rglob("*") if p.is_file()]
