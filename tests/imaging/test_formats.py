"""formats: only allow-listed formats open, whatever a file's name says (RELIABILITY items 31
and 36): no Ghostscript ever runs; HEIF opens through pillow-heif; a JPEG cut short is told
from a whole one by its markers."""

from __future__ import annotations

import io
import struct
import subprocess
from pathlib import Path

import pytest
from PIL import EpsImagePlugin, Image

from conftest import make_profile
from image_files import RED, close, jpeg, noise, save, write, zip_bytes
from studiocut.errors import InputError
from studiocut.imaging import formats
from studiocut.imaging.decode import open_source

LIMITS = make_profile().limits  # the profile's defaults, as a studio would get them


# --------------------------------------------------------------------------- 31 not an image


@pytest.mark.parametrize(("content", "looks_like"), [
    (b"Order 1234: 20 mugs, white backdrop, square crop.\n", "text"),
    (b"<!DOCTYPE html><html><body>404 Not Found</body></html>", "HTML"),
    (zip_bytes(), "ZIP"),
], ids=["text", "html", "zip"])
def test_non_image_named_jpg_is_refused_naming_the_file(
    tmp_path: Path, content: bytes, looks_like: str,
) -> None:
    path = write(tmp_path, "IMG_0042.jpg", content)

    with pytest.raises(InputError) as caught:
        open_source(path, LIMITS)

    assert caught.value.reason == "not-an-image"
    assert str(path) in str(caught.value)
    assert looks_like in str(caught.value)
    assert not caught.value.retryable


# --------------------------------------------------------------------------- 36 EPS and PDF


@pytest.fixture
def no_subprocess(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything starts a process. Pillow runs Ghostscript through subprocess;
    it is made to believe Ghostscript is installed, so a leak would really try to start it."""

    def refuse(*args: object, **kwargs: object) -> None:
        pytest.fail(f"a process was started: {args!r}")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", "gs")


def _dos_eps(postscript: bytes) -> bytes:
    """The binary DOS EPS wrapper (magic C5D0D3C6) around PostScript."""
    return struct.pack("<IIIIIIIH", 0xC6D3D0C5, 30, len(postscript), 0, 0, 0, 0, 0xFFFF) + \
        postscript


@pytest.mark.parametrize(("kind", "name"), [
    ("eps", "IMG_0001.jpg"), ("dos-eps", "IMG_0002.jpg"), ("pdf", "IMG_0003.jpg"),
    ("eps", "artwork.eps"), ("pdf", "catalogue.pdf"),
])
@pytest.mark.usefixtures("no_subprocess")
def test_eps_and_pdf_are_refused_as_not_allowed_without_ghostscript(
    tmp_path: Path, kind: str, name: str,
) -> None:
    image = Image.new("RGB", (20, 10), RED)
    eps = save(image, "EPS")
    data = {"eps": eps, "dos-eps": _dos_eps(eps), "pdf": save(image, "PDF")}[kind]
    path = write(tmp_path, name, data)

    with pytest.raises(InputError) as caught:
        open_source(path, LIMITS).load()

    assert caught.value.reason == "not-an-image"
    assert "not allowed" in str(caught.value)
    assert str(path) in str(caught.value)


# --------------------------------------------------------------------------- HEIF


def test_heic_decodes_through_pillow_heif(tmp_path: Path) -> None:
    path = write(tmp_path, "iphone.heic", save(Image.new("RGB", (64, 32), (200, 30, 30)),
                                                  "HEIF", quality=90))

    source = open_source(path, LIMITS)
    picture = source.load()

    assert source.format == "HEIF"
    assert picture.rgb.shape == (32, 64, 3)
    assert close(picture.rgb[16, 32], (200, 30, 30), tolerance=12)


# --------------------------------------------------------------------------- whole JPEGs


@pytest.mark.parametrize("options", [{}, {"progressive": True}, {"quality": 50},
                                     {"subsampling": 0}])
def test_jpeg_complete_accepts_whole_files_and_refuses_every_cut(options: dict) -> None:
    data = jpeg(noise(), **options)
    assert formats.jpeg_complete(data)
    assert formats.jpeg_complete(data + b"PK\x03\x04" + bytes(range(256)) * 4)  # a ZIP appended
    for cut in (len(data) - 2, len(data) * 3 // 4, len(data) // 2, 40):
        assert not formats.jpeg_complete(data[:cut]), cut


def test_jpeg_complete_skips_an_embedded_exif_thumbnail_and_restart_markers() -> None:
    thumb = Image.fromarray(noise(16, 16))
    image = Image.fromarray(noise())
    exif = image.getexif()
    buffer = io.BytesIO()
    thumb.save(buffer, "JPEG")
    exif[0x0112] = 1
    data = jpeg(noise(), exif=exif.tobytes() + buffer.getvalue())
    assert formats.jpeg_complete(data)
    assert not formats.jpeg_complete(data[: len(data) - 100])
