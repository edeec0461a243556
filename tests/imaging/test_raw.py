"""raw: camera RAW, exercised through a fake ``rawpy.imread`` (there are no RAW samples): the
embedded preview when it is big enough, turned by libraw's flip code, demosaiced otherwise,
and the pixel limit checked on the header."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import rawpy
from PIL import Image

from conftest import make_profile
from image_files import oriented_exif, quadrants, same_quadrants, save, write
from studiocut.errors import InputError
from studiocut.imaging.decode import open_source
from studiocut.profiles import Limits

LIMITS = make_profile().limits  # the profile's defaults, as a studio would get them


def _bitmap_thumb() -> SimpleNamespace:
    return SimpleNamespace(format=rawpy.ThumbFormat.BITMAP, data=np.zeros((4, 4, 3), np.uint8))


class FakeRaw:
    """What ``rawpy.imread`` returns, reduced to what raw uses. ``thumb`` is a JPEG's bytes,
    a ready thumb object, an exception to raise, or None for "no preview"."""

    def __init__(self, sensor: tuple[int, int], flip: int, thumb: object) -> None:
        self.sizes = SimpleNamespace(width=sensor[0], height=sensor[1], flip=flip)
        self.thumb = thumb
        self.postprocessed: list[dict[str, object]] = []
        self.closed = False

    def __enter__(self) -> FakeRaw:
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed = True

    def extract_thumb(self) -> object:
        if isinstance(self.thumb, Exception):
            raise self.thumb
        if self.thumb is None:
            raise rawpy.LibRawNoThumbnailError()
        if isinstance(self.thumb, bytes):
            return SimpleNamespace(format=rawpy.ThumbFormat.JPEG, data=self.thumb)
        return self.thumb

    def postprocess(self, **options: object) -> np.ndarray:
        """Demosaic: an upright image, halved when asked (libraw applies the flip itself)."""
        self.postprocessed.append(options)
        w, h = self.sizes.width, self.sizes.height
        if self.sizes.flip in (5, 6):
            w, h = h, w
        if options.get("half_size"):
            w, h = w // 2, h // 2
        return np.full((h, w, 3), 77, dtype=np.uint8)


@pytest.fixture
def fake_raw(monkeypatch: pytest.MonkeyPatch) -> Callable[..., list[FakeRaw]]:
    """Install a fake rawpy.imread; return a function that sets the camera up and gives the
    list of opened fakes."""
    opened: list[FakeRaw] = []

    def setup(sensor: tuple[int, int] = (60, 40), flip: int = 0,
              thumb: object = None) -> list[FakeRaw]:
        def imread(stream: object) -> FakeRaw:
            assert isinstance(stream, io.BytesIO)
            opened.append(FakeRaw(sensor, flip, thumb))
            return opened[-1]

        monkeypatch.setattr(rawpy, "imread", imread)
        return opened

    return setup


def _raw_file(folder: Path) -> Path:
    return write(folder, "IMG_0001.CR2", b"II*\0 not really a raw file, the fake reads it")


def test_raw_uses_the_embedded_preview_when_it_is_big_enough(
    tmp_path: Path, fake_raw: Callable[..., list[FakeRaw]],
) -> None:
    stored = quadrants(60, 40)
    opened = fake_raw(thumb=save(Image.fromarray(stored), "JPEG", quality=95))

    source = open_source(_raw_file(tmp_path), LIMITS)
    picture = source.load()

    assert source.size == (60, 40)
    assert picture.size == (60, 40)
    assert same_quadrants(picture.rgb, stored, 8)
    assert all(raw.postprocessed == [] for raw in opened), "no demosaic needed"
    assert all(raw.closed for raw in opened)


@pytest.mark.parametrize(("flip", "turns"), [(6, -1), (5, 1), (3, 2)],
                         ids=["flip6-clockwise", "flip5-anticlockwise", "flip3-half"])
def test_raw_preview_without_exif_orientation_is_turned_by_the_flip_code(
    tmp_path: Path, fake_raw: Callable[..., list[FakeRaw]], flip: int, turns: int,
) -> None:
    stored = quadrants(60, 40)  # the preview, in sensor orientation, without EXIF
    fake_raw(flip=flip, thumb=save(Image.fromarray(stored), "JPEG", quality=95))
    upright = np.rot90(stored, k=turns)

    source = open_source(_raw_file(tmp_path), LIMITS)
    picture = source.load()

    assert source.size == (upright.shape[1], upright.shape[0])
    assert picture.size == source.size
    assert same_quadrants(picture.rgb, upright, 8)


def test_raw_preview_with_its_own_exif_orientation_is_turned_once(
    tmp_path: Path, fake_raw: Callable[..., list[FakeRaw]],
) -> None:
    stored = quadrants(60, 40)
    fake_raw(flip=6, thumb=save(Image.fromarray(stored), "JPEG", quality=95, exif=oriented_exif(6)))

    picture = open_source(_raw_file(tmp_path), LIMITS).load()

    assert picture.size == (40, 60)
    assert same_quadrants(picture.rgb, np.rot90(stored, k=-1), 8)


def test_raw_demosaics_when_the_preview_is_too_small(
    tmp_path: Path, fake_raw: Callable[..., list[FakeRaw]],
) -> None:
    opened = fake_raw(thumb=save(Image.fromarray(quadrants(30, 20)), "JPEG"))

    picture = open_source(_raw_file(tmp_path), LIMITS).load()

    assert picture.size == (60, 40)
    assert np.all(picture.rgb == 77), "the demosaiced pixels, not the preview"
    options = opened[-1].postprocessed
    assert len(options) == 1
    assert options[0]["half_size"] is False
    assert options[0]["use_camera_wb"] is True
    assert options[0]["output_bps"] == 8


def test_raw_demosaics_at_half_size_when_half_is_enough(
    tmp_path: Path, fake_raw: Callable[..., list[FakeRaw]],
) -> None:
    opened = fake_raw(thumb=save(Image.fromarray(quadrants(12, 8)), "JPEG"))

    picture = open_source(_raw_file(tmp_path), LIMITS).load((20, 15))

    assert opened[-1].postprocessed[0]["half_size"] is True
    assert picture.size == (30, 20)


def test_raw_preview_serves_a_small_request_even_when_smaller_than_the_sensor(
    tmp_path: Path, fake_raw: Callable[..., list[FakeRaw]],
) -> None:
    opened = fake_raw(thumb=save(Image.fromarray(quadrants(30, 20)), "JPEG"))

    picture = open_source(_raw_file(tmp_path), LIMITS).load((30, 20))

    assert picture.size == (30, 20)
    assert opened[-1].postprocessed == []


@pytest.mark.parametrize("thumb", [None, rawpy.LibRawUnsupportedThumbnailError(), "bitmap"],
                         ids=["no-preview", "unsupported-preview", "bitmap-preview"])
def test_raw_without_a_usable_jpeg_preview_is_demosaiced(
    tmp_path: Path, fake_raw: Callable[..., list[FakeRaw]], thumb: object,
) -> None:
    opened = fake_raw(thumb=_bitmap_thumb() if thumb == "bitmap" else thumb)

    picture = open_source(_raw_file(tmp_path), LIMITS).load()

    assert picture.size == (60, 40)
    assert len(opened[-1].postprocessed) == 1


def test_raw_over_the_pixel_limit_is_refused_before_decoding(
    tmp_path: Path, fake_raw: Callable[..., list[FakeRaw]],
) -> None:
    opened = fake_raw(sensor=(60, 40), flip=6)

    with pytest.raises(InputError) as caught:
        open_source(_raw_file(tmp_path), Limits(max_pixels=60 * 40 - 1))

    assert caught.value.reason == "too-large"
    assert "40 x 60" in str(caught.value), "reported upright"
    assert all(raw.postprocessed == [] for raw in opened)


def test_file_libraw_cannot_read_is_refused_as_not_an_image(tmp_path: Path) -> None:
    """The real libraw, no fake: a .NEF that is not a RAW file."""
    path = write(tmp_path, "DSC_0001.NEF", b"this is a text file with a camera's extension\n" * 20)

    with pytest.raises(InputError) as caught:
        open_source(path, LIMITS)

    assert caught.value.reason == "not-an-image"
    assert str(path) in str(caught.value)
