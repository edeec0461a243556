"""artefacts: each revision's immutable files, the views made from them, and their upkeep."""

from __future__ import annotations

import io
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from studiocut import atomic
from studiocut.journal import READY, Revision
from studiocut.review import artefacts
from studiocut.review.artefacts import KINDS, Store, View, parse_view

W, H = 400, 300


def layers() -> tuple[np.ndarray, np.ndarray]:
    """A framed photo (RGB: a red block on grey, a blue band) and a soft-edged alpha."""
    before = np.full((H, W, 3), 150, np.uint8)
    before[60:240, 100:300] = (210, 40, 30)
    before[:, :20] = (20, 40, 220)
    alpha = np.zeros((H, W), np.float32)
    alpha[60:240, 100:300] = 1.0
    alpha[60:240, 100] = 0.5
    alpha[100, 200] = 0.3  # an odd value to round-trip
    return before, alpha


def png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def result_of(before: np.ndarray, alpha: np.ndarray) -> bytes:
    return png(np.dstack([before, np.round(alpha * 255).astype(np.uint8)]))


def revision(folder: str, job: int = 7, ext: str = "png") -> Revision:
    return Revision(id=1, job=job, number=1, kind="auto", params={}, status=READY,
                    created=0.0, size=(W, H), ext=ext, folder=folder)


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "review")


@pytest.fixture
def written(store: Store) -> Revision:
    before, alpha = layers()
    return revision(store.write(7, before, alpha, result_of(before, alpha), "png"))


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------------------------- write and read


def test_write_makes_one_folder_per_revision_with_its_four_files(store: Store) -> None:
    before, alpha = layers()
    data = result_of(before, alpha)

    first = store.write(7, before, alpha, data, "png")
    second = store.write(7, before, alpha, b"jpeg bytes", "jpg")

    job, token = first.split("/")
    assert job == "7" and len(token) == 12 and first != second
    assert files(store.root / first) == ["alpha.png", "before.jpg", "result.png", "thumb.png"]
    assert files(store.root / second) == ["alpha.png", "before.jpg", "result.jpg", "thumb.png"]
    assert sorted(p.name for p in (store.root / "7").iterdir()) == sorted(
        [first.split("/")[1], second.split("/")[1]])  # no temporary folder left
    assert not list(store.root.rglob(f"*{atomic.TEMP_SUFFIX}"))
    assert store.result(revision(first)) == data
    assert store.result(revision(second, ext="jpg")) == b"jpeg bytes"


def test_a_revision_written_without_its_photo_gets_it_added_later(store: Store) -> None:
    before, alpha = layers()
    rev = revision(store.write(7, before, alpha, result_of(before, alpha), "png",
                               with_before=False))
    folder = store.root / rev.folder
    assert files(folder) == ["alpha.png", "result.png", "thumb.png"]
    assert not store.has_before(rev)
    assert np.array_equal(np.asarray(decode(store.media(rev, "mask", View())[0])),
                          np.round(alpha * 255).astype(np.uint8))  # what needs no photo works
    for kind in ("before", "cutout", "overlay"):
        with pytest.raises(FileNotFoundError, match=r"before\.jpg"):
            store.media(rev, kind, View())
    with pytest.raises(FileNotFoundError):
        store.layers(rev)

    store.add_before(rev, before)

    assert store.has_before(rev)
    assert files(folder) == ["alpha.png", "before.jpg", "result.png", "thumb.png"]
    got, _ = store.layers(rev)
    assert np.abs(got.astype(int) - before.astype(int)).mean() < 2
    assert got[150, 200, 0] > 190 and got[150, 200, 2] < 60  # RGB, not BGR


def test_a_failed_write_leaves_no_folder(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    before, alpha = layers()

    def refuse(ext: str, image: np.ndarray, params: list[int]) -> bytes:
        raise ValueError("cannot encode")

    monkeypatch.setattr(artefacts, "_imencode", refuse)
    with pytest.raises(ValueError, match="cannot encode"):
        store.write(7, before, alpha, b"x", "png")

    assert list((store.root / "7").iterdir()) == []


def test_layers_round_trip_the_alpha_exactly_and_the_photo_within_jpeg_loss(
    store: Store, written: Revision
) -> None:
    before, alpha = layers()

    got_before, got_alpha = store.layers(written)

    assert got_alpha.dtype == np.float32 and got_alpha.shape == (H, W)
    assert np.abs(got_alpha - alpha).max() <= 1 / 255
    assert got_alpha[100, 200] == pytest.approx(round(0.3 * 255) / 255)
    assert got_before.dtype == np.uint8 and got_before.shape == (H, W, 3)
    error = np.abs(got_before.astype(int) - before.astype(int))
    assert error.mean() < 2 and np.percentile(error, 99) < 16
    assert got_before[150, 200, 0] > 190 and got_before[150, 200, 2] < 60  # RGB, not BGR
    assert got_before[150, 5, 2] > 200  # the blue band


def test_the_thumbnail_is_a_small_rgba_cutout(store: Store, written: Revision) -> None:
    thumb = decode((store.root / written.folder / "thumb.png").read_bytes())

    assert thumb.mode == "RGBA" and thumb.size == (320, 240)
    pixels = np.asarray(thumb)
    assert tuple(pixels[120, 160].tolist()) == pytest.approx((210, 40, 30, 255), abs=2)
    assert pixels[5, 5, 3] == 0


# --------------------------------------------------------------------------- media


@pytest.mark.parametrize(
    ("kind", "mode", "size", "content_type"),
    [("thumb", "RGBA", (320, 240), "image/png"),
     ("cutout", "RGBA", (W, H), "image/png"),
     ("mask", "L", (W, H), "image/png"),
     ("overlay", "RGB", (W, H), "image/jpeg"),
     ("before", "RGB", (W, H), "image/jpeg"),
     ("result", "RGBA", (W, H), "image/png")],
)
def test_every_kind_of_media_is_an_image_of_the_canvas(
    store: Store, written: Revision, kind: str, mode: str, size: tuple[int, int],
    content_type: str,
) -> None:
    data, sent_as = store.media(written, kind, View())

    image = decode(data)
    assert (image.mode, image.size, sent_as) == (mode, size, content_type)


def test_media_kinds_cover_every_kind_the_store_knows() -> None:
    assert set(KINDS) == {"thumb", "cutout", "mask", "overlay", "before", "result"}


def test_whole_result_is_the_exact_published_bytes(store: Store, written: Revision) -> None:
    before, alpha = layers()

    assert store.media(written, "result", View()) == (result_of(before, alpha), "image/png")


def test_mask_and_cutout_carry_the_alpha_exactly(store: Store, written: Revision) -> None:
    _, alpha = layers()
    a8 = np.round(alpha * 255).astype(np.uint8)

    mask = np.asarray(decode(store.media(written, "mask", View())[0]))
    cutout = np.asarray(decode(store.media(written, "cutout", View())[0]))

    assert np.array_equal(mask, a8)
    assert np.array_equal(cutout[..., 3], a8)
    assert tuple(cutout[150, 200, :3].tolist()) == pytest.approx((210, 40, 30), abs=3)  # RGB order


def test_a_crop_is_cut_from_the_full_size_view(store: Store, written: Revision) -> None:
    _, alpha = layers()
    a8 = np.round(alpha * 255).astype(np.uint8)
    view = View(crop=(90, 50, 40, 30))

    mask = np.asarray(decode(store.media(written, "mask", view)[0]))
    result = decode(store.media(written, "result", view)[0])
    before = decode(store.media(written, "before", view)[0])

    assert np.array_equal(mask, a8[50:80, 90:130])
    assert result.size == (40, 30) and result.mode == "RGBA"
    assert np.array_equal(np.asarray(result)[..., 3], a8[50:80, 90:130])
    assert before.size == (40, 30)


def test_max_shrinks_the_longest_side_and_never_enlarges(
    store: Store, written: Revision
) -> None:
    small = decode(store.media(written, "cutout", View(longest=100))[0])
    same = decode(store.media(written, "mask", View(longest=5000))[0])
    both = decode(store.media(written, "before", View(crop=(0, 0, 200, 100), longest=50))[0])

    assert small.size == (100, 75) and small.mode == "RGBA"
    assert same.size == (W, H)
    assert both.size == (50, 25)


def test_cutout_and_overlay_are_made_once_and_then_read_from_their_cache(
    store: Store, written: Revision
) -> None:
    folder = store.root / written.folder

    store.media(written, "cutout", View())
    store.media(written, "overlay", View())

    assert files(folder) == ["alpha.png", "before.jpg", "cutout.png", "overlay.jpg",
                             "result.png", "thumb.png"]  # no temporary file left
    marker = np.zeros((H, W, 4), np.uint8)
    marker[..., 1] = 77
    marker[..., 3] = 255
    cv2.imwrite(str(folder / "cutout.png"), marker)
    cv2.imwrite(str(folder / "overlay.jpg"), marker[..., :3])
    assert np.asarray(decode(store.media(written, "cutout", View())[0]))[0, 0, 1] == 77
    assert abs(int(np.asarray(decode(store.media(written, "overlay", View())[0]))[0, 0, 1])
               - 77) <= 2


def test_an_unknown_kind_is_a_value_error(store: Store, written: Revision) -> None:
    with pytest.raises(ValueError, match="unknown media kind 'raw'"):
        store.media(written, "raw", View())


def test_media_of_a_purged_revision_is_file_not_found(store: Store, written: Revision) -> None:
    store.remove({written.folder})

    for kind in ("mask", "cutout", "before"):
        with pytest.raises(FileNotFoundError):
            store.media(written, kind, View())


def test_a_crop_of_a_result_opencv_cannot_read_is_a_value_error(store: Store) -> None:
    before, alpha = layers()
    folder = store.write(3, before, alpha, b"not an image", "webp")

    with pytest.raises(ValueError, match=r"cannot crop a \.webp result"):
        store.media(revision(folder, job=3, ext="webp"), "result", View(crop=(0, 0, 10, 10)))
    assert store.media(revision(folder, job=3, ext="webp"), "result", View()) == (
        b"not an image", "image/webp")


# --------------------------------------------------------------------------- upkeep


def test_remove_unknown_deletes_only_folders_no_revision_refers_to(
    store: Store, tmp_path: Path
) -> None:
    before, alpha = layers()
    kept = store.write(1, before, alpha, b"a", "png")
    stray = store.write(1, before, alpha, b"b", "png")
    orphan = store.write(2, before, alpha, b"c", "png")
    (store.root / "3").mkdir()  # an empty job folder
    (store.root / "notes.txt").write_text("not a job")

    removed = store.remove_unknown({kept}, older_than=time.time() + 1)

    assert removed == 2
    assert (store.root / kept).is_dir()
    assert not (store.root / stray).exists() and not (store.root / orphan).exists()
    assert sorted(p.name for p in store.root.iterdir()) == ["1", "notes.txt"]
    assert store.remove_unknown({kept}, older_than=time.time() + 1) == 0


def test_remove_unknown_of_a_store_never_written_is_nothing(tmp_path: Path) -> None:
    assert Store(tmp_path / "none").remove_unknown(set(), older_than=time.time()) == 0


# --------------------------------------------------------------------------- views


def test_parse_view_reads_a_crop_and_a_size() -> None:
    assert artefacts.parse_view(None, None, (W, H)) == View()
    assert artefacts.parse_view("", "", (W, H)).whole
    assert artefacts.parse_view("10,20,30,40", "256", (W, H)) == View((10, 20, 30, 40), 256)
    assert artefacts.parse_view("10.7,20.2,30,40", None, (W, H)).crop == (10, 20, 30, 40)


def test_parse_view_clamps_a_crop_at_the_canvas_edge() -> None:
    assert artefacts.parse_view("380,290,50,50", None, (W, H)).crop == (380, 290, 20, 10)
    assert artefacts.parse_view("0,0,5000,5000", None, (W, H)).crop == (0, 0, W, H)


@pytest.mark.parametrize(
    ("crop", "longest", "message"),
    [("a,b,c,d", None, "crop must be x,y,w,h"),
     ("1,2,3", None, "crop must be x,y,w,h"),
     ("1,2,3,4,5", None, "crop must be x,y,w,h"),
     ("10,10,0,5", None, "crop is outside the image, empty or too large"),
     ("10,10,5,-1", None, "crop is outside the image, empty or too large"),
     (None, "abc", "max must be a whole number"),
     (None, "1.5", "max must be a whole number"),
     (None, "15", "max must be between 16 and 20000"),
     (None, "20001", "max must be between 16 and 20000")],
)
def test_parse_view_refuses_garbage(crop: str | None, longest: str | None,
                                    message: str) -> None:
    with pytest.raises(ValueError, match=message):
        artefacts.parse_view(crop, longest, (W, H))


def test_parse_view_refuses_a_crop_over_the_pixel_limit() -> None:
    size = (5000, 5000)

    assert artefacts.parse_view("0,0,4000,4000", "16", size).crop == (0, 0, 4000, 4000)
    with pytest.raises(ValueError, match="too large"):
        artefacts.parse_view("0,0,4001,4000", None, size)
    assert artefacts.parse_view(None, "20000", size).longest == 20000


# --------------------------------------------------------------------------- overlay


def test_overlay_tints_what_was_removed_red_and_leaves_the_subject() -> None:
    before = np.zeros((2, 3, 3), np.uint8)
    before[:] = (100, 100, 100)
    before[:, 2] = (0, 0, 0)
    alpha = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]], np.float32)

    tinted = artefacts.overlay(before, alpha)

    assert tinted.dtype == np.uint8 and tinted.shape == before.shape
    red = np.array([230, 30, 40])
    assert np.abs(tinted[0, 0].astype(int) - (0.55 * red + 0.45 * 100)).max() <= 1
    assert np.abs(tinted[0, 2].astype(int) - 0.55 * red).max() <= 1
    assert np.array_equal(tinted[:, 1], before[:, 1])  # alpha 1: unchanged


def test_a_crop_reaching_past_the_top_left_is_clipped_not_moved() -> None:
    view = parse_view("-10,-20,50,60", None, (100, 100))

    assert view.crop == (0, 0, 40, 40)


def test_a_crop_wholly_outside_the_image_is_refused() -> None:
    with pytest.raises(ValueError, match="outside the image"):
        parse_view("200,200,10,10", None, (100, 100))


def test_remove_unknown_leaves_a_folder_a_worker_may_still_be_recording(tmp_path: Path) -> None:
    store = Store(tmp_path / "review")
    folder = store.write(1, np.zeros((8, 8, 3), np.uint8), np.ones((8, 8), np.float32),
                         b"x", "png")

    assert store.remove_unknown(set(), older_than=time.time() - 3600) == 0
    assert (store.root / folder).is_dir()


# --------------------------------------------------------------------------- renditions


@pytest.fixture
def listed(store: Store) -> Revision:
    """A revision of two renditions: the result (PNG, with alpha) and a JPEG beside it."""
    before, alpha = layers()
    ok, jpeg = cv2.imencode(".jpg", np.full((144, 100, 3), 200, np.uint8))
    assert ok
    folder = store.write(7, before, alpha, result_of(before, alpha), "png",
                         renditions=[("rendition-1.jpg", jpeg.tobytes(), None)])
    return Revision(id=1, job=7, number=1, kind="auto", status=READY, created=0.0,
                    size=(W, H), ext="png", folder=folder, params={"renditions": [
                        {"name": "cutout", "ext": "png", "file": "result.png",
                         "output": "a.png", "size": [W, H]},
                        {"name": "portrait", "ext": "jpg", "file": "rendition-1.jpg",
                         "output": "a_p.jpg", "size": [100, 144]}]})


def test_a_rendition_is_served_whole_or_shrunk_to_a_thumbnail(store: Store,
                                                              listed: Revision) -> None:
    whole, kind = store.media(listed, "rendition-portrait", View())
    assert (whole, kind) == (store.rendition(listed, "portrait"), "image/jpeg")

    small, kind = store.media(listed, "rendition-cutout", View(longest=80))
    assert kind == "image/png"
    thumb = decode(small)
    assert (thumb.mode, thumb.size) == ("RGBA", (80, 60))  # transparent stays transparent
    assert decode(store.media(listed, "rendition-portrait", View(longest=72))[0]).size == (
        50, 72)


def test_an_unknown_rendition_is_a_value_error(store: Store, listed: Revision) -> None:
    with pytest.raises(ValueError, match="no rendition 'square'"):
        store.media(listed, "rendition-square", View(longest=80))
