"""process: files and folders cut out once, outside the daemon."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from studiocut import cli


def test_process_of_a_folder_takes_what_the_daemon_would_and_mirrors_subfolders(
        tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import product_photo

    inbox = tmp_path / "in"
    (inbox / "sub").mkdir(parents=True)
    product_photo().save(inbox / "a.jpg")
    product_photo().save(inbox / "sub" / "b.png")
    product_photo().save(inbox / "c.jpg.tmp", format="JPEG")  # a copy tool's temp name
    product_photo().save(inbox / ".hidden.jpg", format="JPEG")
    (inbox / "link.jpg").symlink_to(inbox / "a.jpg")
    profile = tmp_path / "p.yaml"
    profile.write_text("model: backdrop-key\nkey: {assist: none}\nsquare: false\nreview: false\n")

    code = cli.main(["process", "--profile", str(profile), "--out", str(tmp_path / "out"),
                     "--json", str(inbox)])

    assert code == 0
    written = sorted(p.relative_to(tmp_path / "out").as_posix()
                     for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert written == ["a.jpg", "sub/b.jpg"]


# ------------------------------------------------------------------ SKUs, views and renditions

KEYED = ("model: backdrop-key\nkey: {assist: none}\nreview: false\nformat: png\n"
         "backdrop: transparent\n")


def _process(tmp_path: Path, profile: str, *inputs: Path, more: tuple[str, ...] = (),
             out: str = "out") -> int:
    """Run ``process --json`` with the profile's YAML (after the fast keying model's keys)
    on ``inputs``; return the exit code."""
    path = tmp_path / "p.yaml"
    path.write_text(KEYED + profile, encoding="utf-8")
    code = cli.main(["process", "--profile", str(path), "--out", str(tmp_path / out), "--json",
                     *more, *map(str, inputs)])
    return code


def _rows(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, Any]]:
    return {Path(row["source"]).name: row
            for row in map(json.loads, capsys.readouterr().out.splitlines())}


def _written(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_views_are_numbered_per_sku_folder_in_name_order(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import product_photo

    inbox = tmp_path / "in"
    for name in ("A-1/2-side.png", "A-1/1-front.png", "A-1/3-top.png", "B 2/x.png"):
        (inbox / name).parent.mkdir(parents=True, exist_ok=True)
        product_photo().save(inbox / name)

    code = _process(tmp_path, "sku: folder\nname: '{sku}_{view}.{ext}'\n", inbox,
                       more=("--jobs", "3"))

    assert code == 0
    rows = _rows(capsys)
    assert {name: (row["sku"], row["view"]) for name, row in rows.items()} == {
        "1-front.png": ("A-1", 1), "2-side.png": ("A-1", 2), "3-top.png": ("A-1", 3),
        "x.png": ("B 2", 1)}
    assert _written(tmp_path / "out") == ["A-1/A-1_1.png", "A-1/A-1_2.png", "A-1/A-1_3.png",
                                          "B 2/B 2_1.png"]
    assert rows["2-side.png"]["output"] == str(tmp_path / "out" / "A-1" / "A-1_2.png")


def test_a_photo_without_its_sku_fails_alone_naming_the_file_and_what_is_missing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import product_photo

    inbox = tmp_path / "in"
    (inbox / "A1").mkdir(parents=True)
    product_photo().save(inbox / "loose.png")
    product_photo().save(inbox / "A1" / "front.png")

    code = _process(tmp_path, "sku: folder\nname: '{sku}_{view}.{ext}'\n", inbox)

    assert code == 1
    rows = _rows(capsys)
    assert rows["loose.png"]["ok"] is False and rows["loose.png"]["reason"] == "no-sku"
    assert str(inbox / "loose.png") in rows["loose.png"]["message"]
    assert "not in a subfolder of the input folder" in rows["loose.png"]["message"]
    assert _written(tmp_path / "out") == ["A1/A1_1.png"]


def test_skus_come_from_sidecars_beside_the_photo_or_in_its_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import product_photo

    inbox = tmp_path / "in"
    inbox.mkdir()
    for name in ("a.png", "b.png", "c.png"):
        product_photo().save(inbox / name)
    (inbox / "b.json").write_text('{"sku": "ZX/9", "note": "other tools"}', encoding="utf-8")
    (inbox / "sku.txt").write_text("\nFOLDER-1\n", encoding="utf-8")

    code = _process(tmp_path, "sku: sidecar\nname: '{sku}-{view}.{ext}'\n", inbox)

    assert code == 0
    assert {n: (r["sku"], r["view"]) for n, r in _rows(capsys).items()} == {
        "a.png": ("FOLDER-1", 1), "b.png": ("ZX_9", 1), "c.png": ("FOLDER-1", 2)}
    assert _written(tmp_path / "out") == ["FOLDER-1-1.png", "FOLDER-1-2.png", "ZX_9-1.png"]


def _card(path: Path, text: str) -> None:
    import zxingcpp
    from PIL import Image

    import barcode_scenes as scenes

    Image.fromarray(scenes.card([scenes.code(text, zxingcpp.BarcodeFormat.EAN13)])).save(path)


def test_a_barcode_card_names_the_photos_after_it_in_its_folder_and_is_not_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import product_photo

    session = tmp_path / "in" / "session"
    session.mkdir(parents=True)
    product_photo().save(session / "IMG_0001.png")  # before any card
    _card(session / "IMG_0002.png", "4006381333931")
    product_photo().save(session / "IMG_0003.png")
    product_photo((400, 300), (100, 60, 300, 260)).save(session / "IMG_0004.png")
    _card(session / "IMG_0005.png", "9780201379624")
    product_photo().save(session / "IMG_0006.png")

    code = _process(tmp_path, "sku: barcode\nname: '{sku}_{view}.{ext}'\n", session.parent)

    assert code == 1, "the photo before the first card failed"
    rows = _rows(capsys)
    assert rows["IMG_0001.png"]["reason"] == "no-sku"
    assert "give the card in the same run" in rows["IMG_0001.png"]["message"]
    assert [(rows[n]["card"], rows[n]["sku"]) for n in ("IMG_0002.png", "IMG_0005.png")] == [
        (True, "4006381333931"), (True, "9780201379624")]
    assert rows["IMG_0002.png"]["ok"] is True and rows["IMG_0002.png"]["outputs"] == []
    assert _written(tmp_path / "out") == [
        "session/4006381333931_1.png", "session/4006381333931_2.png",
        "session/9780201379624_1.png"], "cards are not written, each names what follows it"

    alone = _process(tmp_path, "sku: barcode\nname: '{sku}_{view}.{ext}'\n",
                        session / "IMG_0003.png", out="again")
    assert alone == 1, "a card of an earlier run is not remembered"
    assert "process keeps nothing between runs" in _rows(capsys)["IMG_0003.png"]["message"]
    assert not (tmp_path / "again").exists() or _written(tmp_path / "again") == []


def test_every_rendition_is_written_and_listed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import product_photo

    inbox = tmp_path / "in" / "SKU9"
    inbox.mkdir(parents=True)
    product_photo().save(inbox / "front.png")
    renditions = ("renditions:\n"
                  "  - {name: web, square: {size: 200}, folder: web}\n"
                  "  - {name: tall, canvas: {width: 200, height: 300}, folder: tall,"
                  " format: jpeg, backdrop: '#ffffff'}\n")

    code = _process(tmp_path, "sku: folder\nname: '{sku}_{view}.{ext}'\n" + renditions,
                       inbox.parent)

    assert code == 0
    out = tmp_path / "out"
    row = _rows(capsys)["front.png"]
    assert row["outputs"] == [{"name": "web", "path": str(out / "web/SKU9/SKU9_1.png")},
                              {"name": "tall", "path": str(out / "tall/SKU9/SKU9_1.jpg")}]
    assert row["output"] == str(out / "web/SKU9/SKU9_1.png")
    assert _written(out) == ["tall/SKU9/SKU9_1.jpg", "web/SKU9/SKU9_1.png"]


def test_a_profile_without_sku_writes_every_rendition_too(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import product_photo

    product_photo().save(tmp_path / "a.png")
    code = _process(tmp_path, "renditions:\n  - {name: big}\n  - {name: small, suffix: -s,"
                       " square: {size: 100}}\n", tmp_path / "a.png")

    assert code == 0
    assert _written(tmp_path / "out") == ["a-s.png", "a.png"]
    assert [o["name"] for o in _rows(capsys)["a.png"]["outputs"]] == ["big", "small"]


def _alpha_box(path: Path) -> tuple[int, int, int, int]:
    import numpy as np
    from PIL import Image

    with Image.open(path) as image:
        alpha = np.asarray(image)[..., 3] > 127
    rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def test_the_views_of_one_sku_share_the_first_views_scale_and_floor_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Three views made at once: the later ones wait for the first, whose framing they
    follow (fitted on its own, each small one would be blown up and centred)."""
    from conftest import product_photo

    subjects = {"1.png": (100, 60, 300, 260), "2.png": (150, 120, 250, 260),
                "3.png": (130, 160, 270, 260)}  # 200 x 200, 100 x 140, 140 x 100 px
    folder = tmp_path / "in" / "SKU-42"
    folder.mkdir(parents=True)
    for name, box in subjects.items():
        product_photo((400, 300), box).save(folder / name)

    code = _process(tmp_path, "sku: folder\nname: '{sku}_{view}.{ext}'\n"
                       "square: {size: 200, margin: 0.1, max_upscale: 4}\n", folder.parent,
                       more=("--jobs", "3"))

    assert code == 0
    boxes = {name: _alpha_box(tmp_path / "out" / "SKU-42" / f"SKU-42_{name}")
             for name in subjects}
    first = boxes["1.png"]
    scale = (first[3] - first[1]) / (subjects["1.png"][3] - subjects["1.png"][1])
    for name, (x0, y0, x1, y1) in boxes.items():
        sx0, sy0, sx1, sy1 = subjects[name]
        assert abs((x1 - x0) - scale * (sx1 - sx0)) <= 1, (name, boxes)
        assert abs((y1 - y0) - scale * (sy1 - sy0)) <= 1, (name, boxes)
        assert abs(y1 - first[3]) <= 1, ("floor line", name, boxes)


def test_two_photos_given_one_output_name_are_refused_before_anything_is_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A RAW and a JPEG of one shot (here a PNG and a JPEG) would both be ``{stem}.png``: the
    daemon gives the second a fallback name it keeps in its journal; a run refuses."""
    from conftest import product_photo

    folder = tmp_path / "in" / "A1"
    folder.mkdir(parents=True)
    product_photo().save(folder / "front.png")
    product_photo().save(folder / "front.jpg")

    code = _process(tmp_path, "sku: folder\n", folder.parent)

    assert code == 2
    err = capsys.readouterr().err
    assert f"{folder / 'front.png'}: its output {tmp_path / 'out' / 'A1' / 'front.png'}" in err
    assert f"also that of {folder / 'front.jpg'}" in err
    assert _written(tmp_path / "out") == []


def test_outputs_of_an_earlier_run_named_by_view_are_replaced_only_when_asked(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import product_photo

    folder = tmp_path / "in" / "A1"
    folder.mkdir(parents=True)
    product_photo().save(folder / "front.png")
    profile = "sku: folder\nname: '{sku}_{view}.{ext}'\n"
    assert _process(tmp_path, profile, folder.parent) == 0
    earlier = (tmp_path / "out" / "A1" / "A1_1.png").stat().st_mtime_ns
    product_photo().save(folder / "a-new-one.png")  # sorts first: view 1 now
    capsys.readouterr()

    code = _process(tmp_path, profile, folder.parent)

    assert code == 2
    assert "A1_1.png: already there" in capsys.readouterr().err
    assert (tmp_path / "out" / "A1" / "A1_1.png").stat().st_mtime_ns == earlier
    assert _process(tmp_path, profile, folder.parent, more=("--replace",)) == 0
    assert _written(tmp_path / "out") == ["A1/A1_1.png", "A1/A1_2.png"]


def test_json_lines_stay_json_when_a_library_prints(
        tmp_path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """pymatting prints a warning to stdout when its incomplete Cholesky factor needs a
    larger shift; with --json that would break the stream a script reads. Here the first
    shift is made one that always fails, so pymatting really prints mid-run."""
    from conftest import product_photo
    from studiocut.imaging import matte

    monkeypatch.setattr(matte, "_SHIFTS", [-10.0, *matte._SHIFTS])
    inbox = tmp_path / "in"
    inbox.mkdir()
    for name in ("a.jpg", "b.jpg"):
        product_photo().save(inbox / name)

    code = _process(tmp_path, "matting: true\n", inbox)

    captured = capsys.readouterr()
    assert code == 0
    assert "PERFORMANCE WARNING" in captured.err  # pymatting did print, to stderr
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert sorted(Path(row["source"]).name for row in rows) == ["a.jpg", "b.jpg"]
