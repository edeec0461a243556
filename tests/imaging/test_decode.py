"""decode: hostile, damaged and unusual inputs (RELIABILITY items 30-38; 31 and 36, formats
not allowed, are in test_formats, camera RAW in test_raw).

Every input is built here with Pillow, numpy, zlib and struct; nothing is copied from sample
folders.
"""

from __future__ import annotations

import errno
import io
import itertools
import os
import resource
import signal
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps

from conftest import FakeModel, make_profile, product_photo
from image_files import (
    BLUE,
    GREEN,
    RED,
    close,
    jpeg,
    noise,
    oriented_exif,
    quadrants,
    same_quadrants,
    save,
    swap_icc_tags,
    write,
    zip_bytes,
)
from studiocut.errors import InputError
from studiocut.imaging import decode, encode, pipeline
from studiocut.imaging.decode import open_source
from studiocut.profiles import Encoding, Limits

LIMITS = make_profile().limits  # the profile's defaults, as a studio would get them


# --------------------------------------------------------------------------- builders


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(w: int, h: int, idat: bytes, *, depth: int = 8, colour_type: int = 2) -> bytes:
    """A PNG written by hand, so its header can claim whatever we like."""
    header = struct.pack(">IIBBBBB", w, h, depth, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


def _zeros_deflated(length: int) -> bytes:
    """A valid zlib stream of ``length`` zero bytes, built in milliseconds: one full-flushed
    block repeated (a full flush resets the compressor, so the block's bytes repeat), and the
    Adler-32 of n zeros, which is (n mod 65521) << 16 | 1."""
    block = 1 << 22
    compressor = zlib.compressobj(9)
    head = compressor.compress(bytes(block)) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = zlib.compressobj(9)
    again.compress(bytes(block))
    repeat = again.flush(zlib.Z_FULL_FLUSH)[2:]  # the same block without the zlib header
    whole, rest = divmod(length, block)
    tail = zlib.compressobj(9)
    last = tail.compress(bytes(rest)) + tail.flush()
    last = last[2:-4]  # its final deflate block, without header and checksum
    adler = ((length % 65521) << 16) | 1
    return head + repeat * (whole - 1) + last + struct.pack(">I", adler)


def _s15(x: float) -> bytes:
    return struct.pack(">i", round(x * 65536))


def _cmyk_icc(rgb_of: Callable[[int, int, int, int], tuple[float, float, float]]) -> bytes:
    """A CMYK -> Lab ICC v2 printer profile, written by hand (ImageCms cannot create CMYK
    profiles): a lut8 whose 2x2x2x2 grid gives each ink corner the Lab of ``rgb_of(c, m, y, k)``."""
    to_lab = ImageCms.buildTransform(ImageCms.createProfile("sRGB"),
                                     ImageCms.createProfile("LAB"), "RGB", "LAB")
    corners = list(itertools.product((0, 1), repeat=4))  # first ink varies slowest, as ICC wants
    strip = np.array([[[round(255 * v) for v in rgb_of(*c)] for c in corners]], dtype=np.uint8)
    lab = ImageCms.applyTransform(Image.fromarray(strip), to_lab)
    assert lab is not None
    encoded = np.asarray(lab).copy()  # Pillow keeps a* and b* signed; ICC lut8 offsets them
    encoded[..., 1:] += 128
    clut = encoded.tobytes()
    ramp = bytes(range(256))
    identity = b"".join(_s15(1.0 if i == j else 0.0) for i in range(3) for j in range(3))
    lut = b"mft1" + bytes(4) + bytes([4, 3, 2, 0]) + identity + ramp * 4 + clut + ramp * 3
    text = b"test CMYK\0"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(8 + 3 + 67)
    tags = [(b"desc", desc), (b"wtpt", b"XYZ " + bytes(4) + _s15(0.9642) + _s15(1) + _s15(0.8249)),
            (b"A2B0", lut), (b"cprt", b"text" + bytes(4) + b"none\0")]
    start = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        data += bytes(-len(data) % 4)
        table += signature + struct.pack(">II", start + len(body), len(data))
        body += data
    header = (struct.pack(">I", start + len(body)) + bytes(4) + bytes([2, 0x10, 0, 0])
              + b"prtrCMYKLab " + bytes(12) + b"acsp" + bytes(28)
              + _s15(0.9642) + _s15(1.0) + _s15(0.8249))
    header += bytes(128 - len(header))
    return header + struct.pack(">I", len(tags)) + table + body


def _plain_inks(c: int, m: int, y: int, k: int) -> tuple[float, float, float]:
    return ((1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k))


def _inks_turned(c: int, m: int, y: int, k: int) -> tuple[float, float, float]:
    """A deliberately odd press: cyan ink prints yellow (so the profile visibly matters)."""
    return _plain_inks(m, y, c, k)


@contextmanager
def _no_hang(seconds: float = 5.0) -> Iterator[None]:
    """Turn a hang (a FIFO opened for reading blocks until a writer comes) into a failure."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"blocked for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _reason(path: Path, limits: Limits = LIMITS, at_least: tuple[int, int] | None = None) -> str:
    """Open and decode ``path``; return the InputError's reason (fail if none is raised)."""
    with pytest.raises(InputError) as caught:
        open_source(path, limits).load(at_least)
    assert str(path) in str(caught.value), "the message must name the file"
    return caught.value.reason


# --------------------------------------------------------------------------- 30 truncated


@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
@pytest.mark.parametrize("kept", [0.1, 0.5, 0.9, 0.999])
@pytest.mark.parametrize("at_least", [None, (100, 100)], ids=["full", "preview"])
def test_truncated_jpeg_is_refused_not_grey_filled(
    tmp_path: Path, progressive: bool, kept: float, at_least: tuple[int, int] | None,
) -> None:
    data = save(product_photo((800, 600)), "JPEG", quality=90, progressive=progressive)
    path = write(tmp_path, "cut.jpg", data[: int(len(data) * kept)])

    assert _reason(path, at_least=at_least) == "truncated"


def test_truncated_png_is_refused_as_truncated_not_as_a_crash(tmp_path: Path) -> None:
    data = save(product_photo((400, 300)), "PNG")
    path = write(tmp_path, "cut.png", data[: len(data) // 2])

    assert _reason(path) == "truncated"


def test_complete_jpeg_decodes_to_its_pixels(tmp_path: Path) -> None:
    """The counterpart of the truncation tests: the same file, whole, is accepted."""
    path = write(tmp_path, "whole.jpg", save(product_photo((800, 600)), "JPEG", quality=95))

    picture = open_source(path, LIMITS).load()

    assert picture.size == (800, 600)
    assert close(picture.rgb[150, 150], (200, 30, 30))


# --------------------------------------------------------------------------- 32 bombs


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux


def test_png_header_claiming_50000_by_50000_is_refused_fast(tmp_path: Path) -> None:
    path = write(tmp_path, "huge.png", _png(50_000, 50_000, zlib.compress(bytes(1000))))
    peak = _peak_rss_bytes()
    started = time.perf_counter()

    with pytest.raises(InputError) as caught:
        open_source(path, LIMITS)

    assert caught.value.reason == "too-large"
    assert time.perf_counter() - started < 1.0
    assert _peak_rss_bytes() - peak < 64 << 20
    # in the profile's terms, not Pillow's internal limit
    assert str(caught.value) == (f"{path}: 2500.0 MP is over the profile's limit of "
                                 f"{LIMITS.max_pixels / 1e6:.1f} MP (limits.max_pixels)")


def test_zlib_bomb_of_15000_by_15000_is_refused_before_any_pixel_is_decoded(
    tmp_path: Path,
) -> None:
    raw_length = 15_000 * (1 + 15_000 * 3)  # RGB rows, each with its filter byte: 675 MB
    idat = _zeros_deflated(raw_length)
    assert len(idat) < 1 << 20, "a bomb: under 1 MB on disk"
    assert zlib.decompressobj().decompress(idat, 1 << 16) == bytes(1 << 16)
    path = write(tmp_path, "bomb.png", _png(15_000, 15_000, idat))
    peak = _peak_rss_bytes()
    started = time.perf_counter()

    with pytest.raises(InputError) as caught:
        open_source(path, LIMITS)

    assert caught.value.reason == "too-large"
    assert "limits.max_pixels" in str(caught.value)
    assert time.perf_counter() - started < 1.0
    assert _peak_rss_bytes() - peak < 64 << 20, "675 MB of pixels must never be allocated"


def test_image_over_the_pixel_limit_passes_when_the_profile_allows_it(tmp_path: Path) -> None:
    """The rule behind "a 100 MP image passes when the profile allows it", at a size that
    decodes in milliseconds: the limit is the profile's, not a fixed one."""
    path = write(tmp_path, "big.png", save(product_photo((2000, 1000)), "PNG"))
    tight = make_profile(limits={"max_pixels": 1_999_999}).limits
    roomy = make_profile(limits={"max_pixels": 2_000_000}).limits

    with pytest.raises(InputError) as caught:
        open_source(path, tight)
    picture = open_source(path, roomy).load()

    assert caught.value.reason == "too-large"
    assert picture.size == (2000, 1000)


def test_file_over_the_byte_limit_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = write(tmp_path, "big.jpg", save(product_photo(), "JPEG"))

    with pytest.raises(InputError) as caught:
        open_source(path, Limits(max_bytes=100))

    assert caught.value.reason == "too-large"
    assert "bytes" in str(caught.value)


def _fstat_reporting(size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make os.fstat report ``size`` bytes, as for a file that grew after it was looked at."""
    real = os.fstat

    def fstat(fd: int) -> os.stat_result:
        st = real(fd)
        return os.stat_result((st.st_mode, st.st_ino, st.st_dev, st.st_nlink, st.st_uid,
                               st.st_gid, size, st.st_atime, st.st_mtime, st.st_ctime))

    monkeypatch.setattr(decode.os, "fstat", fstat)


def test_a_file_that_grew_after_its_size_was_read_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = save(product_photo(), "JPEG")
    path = write(tmp_path, "growing.jpg", data)
    _fstat_reporting(100, monkeypatch)

    assert decode._read_regular_file(path, Limits()) == data


def test_a_file_that_grew_past_the_byte_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "growing.jpg", save(product_photo(), "JPEG"))
    _fstat_reporting(50, monkeypatch)

    with pytest.raises(InputError) as caught:
        decode._read_regular_file(path, Limits(max_bytes=100))

    assert caught.value.reason == "too-large"


# --------------------------------------------------------------------------- 33 extreme aspect


@pytest.mark.parametrize("size", [(1, 60_000), (60_000, 1)], ids=["1x60000", "60000x1"])
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_extreme_aspect_image_is_decoded_whole_by_the_pixel_rule(
    tmp_path: Path, size: tuple[int, int], fmt: str,
) -> None:
    """Stated rule: only the pixel count (limits.max_pixels) bounds an image, not its shape,
    so a one-pixel line within the limit decodes whole, at full size and as a preview."""
    path = write(tmp_path, f"line.{fmt.lower()}", save(Image.new("RGB", size, RED), fmt))

    source = open_source(path, LIMITS)
    full = source.load()
    preview = source.load((64, 64))

    assert source.size == size
    assert full.rgb.shape == (size[1], size[0], 3)
    assert preview.rgb.shape == (size[1], size[0], 3)  # no draft can shrink one pixel
    assert close(full.rgb[0, 0], RED)


@pytest.mark.parametrize("size", [(1, 60_000), (60_000, 1)], ids=["1x60000", "60000x1"])
@pytest.mark.parametrize("keys", [{}, {"square": {"size": 256}}, {"backdrop": "transparent"}],
                         ids=["plain", "square", "transparent"])
def test_extreme_aspect_image_never_crashes_the_pipeline(
    tmp_path: Path, size: tuple[int, int], keys: dict[str, object],
) -> None:
    path = write(tmp_path, "line.png", save(Image.new("RGB", size, RED), "PNG"))
    out = tmp_path / "out"
    out.mkdir()

    outcome = pipeline.process(path, FakeModel(), make_profile(**keys), output_root=out)

    assert outcome.reason != "internal-error", outcome.message
    assert outcome.ok or outcome.reason in ("no-subject", "too-large"), outcome


# --------------------------------------------------------------------------- 34 modes and colour


def _rgb16_png(w: int, h: int, colour: tuple[int, int, int]) -> bytes:
    """A 16-bit-per-channel RGB PNG (Pillow cannot write one)."""
    row = b"\0" + struct.pack(">HHH", *colour) * w
    return _png(w, h, zlib.compress(row * h), depth=16, colour_type=2)


def _palette_with_transparency(fmt: str) -> bytes:
    image = Image.new("P", (20, 10), 0)
    image.putpalette([*RED, *GREEN] + [0] * (256 * 3 - 6))
    image.paste(1, (0, 0, 10, 10))  # left half: index 1, the transparent one; right: red
    return save(image, fmt, transparency=1)


# name -> (file name, bytes, expected colour of the right half, whether alpha comes back)
MODES: dict[str, tuple[str, Callable[[], bytes], tuple[int, int, int], bool]] = {
    "cmyk-jpeg": ("c.jpg", lambda: save(Image.new("CMYK", (20, 10), (0, 255, 255, 0)), "JPEG",
                                         quality=95), (255, 0, 0), False),
    "cmyk-tiff": ("c.tif", lambda: save(Image.new("CMYK", (20, 10), (0, 255, 255, 0)), "TIFF"),
                  (255, 0, 0), False),
    "cmyk-icc": ("ci.jpg", lambda: save(Image.new("CMYK", (20, 10), (255, 0, 0, 0)), "JPEG",
                                         quality=95, icc_profile=_cmyk_icc(_plain_inks)),
                 (0, 255, 255), False),
    "grey16-png": ("g.png", lambda: save(Image.fromarray(np.full((10, 20), 0x8000, np.uint16)),
                                          "PNG"), (128, 128, 128), False),
    "grey16-tiff": ("g.tif", lambda: save(Image.fromarray(np.full((10, 20), 0x8000, np.uint16)),
                                           "TIFF"), (128, 128, 128), False),
    "rgb16-png": ("c16.png", lambda: _rgb16_png(20, 10, (0x8000, 0x2000, 0xC000)),
                  (128, 32, 192), False),
    "palette-png": ("p.png", lambda: _palette_with_transparency("PNG"), RED, True),
    "palette-gif": ("p.gif", lambda: _palette_with_transparency("GIF"), RED, True),
    "grey": ("l.png", lambda: save(Image.new("L", (20, 10), 77), "PNG"), (77, 77, 77), False),
    "bilevel": ("b.png", lambda: save(Image.new("1", (20, 10), 1), "PNG"), (255, 255, 255),
                False),
    "grey-alpha": ("la.png", lambda: save(Image.new("LA", (20, 10), (90, 128)), "PNG"),
                   (90, 90, 90), True),
    "rgba-png": ("a.png", lambda: save(Image.new("RGBA", (20, 10), (*BLUE, 128)), "PNG"), BLUE,
                 True),
    "rgba-webp": ("a.webp", lambda: save(Image.new("RGBA", (20, 10), (*BLUE, 128)), "WEBP",
                                          lossless=True), BLUE, True),
    "rgba-tiff": ("a.tif", lambda: save(Image.new("RGBA", (20, 10), (*BLUE, 128)), "TIFF"), BLUE,
                  True),
    "bmp": ("x.bmp", lambda: save(Image.new("RGB", (20, 10), GREEN), "BMP"), GREEN, False),
}


@pytest.mark.parametrize("mode", list(MODES))
def test_every_colour_mode_decodes_to_8bit_rgb(tmp_path: Path, mode: str) -> None:
    name, build, colour, has_alpha = MODES[mode]
    path = write(tmp_path, name, build())

    picture = open_source(path, LIMITS).load()

    assert picture.rgb.shape == (10, 20, 3)
    assert picture.rgb.dtype == np.uint8
    assert close(picture.rgb[5, 15], colour), (picture.rgb[5, 15], colour)
    assert (picture.alpha is not None) == has_alpha
    if picture.alpha is not None:
        assert picture.alpha.shape == (10, 20)
        assert picture.alpha.dtype == np.float32
        assert 0.0 <= picture.alpha.min() <= picture.alpha.max() <= 1.0


def test_palette_transparency_comes_back_as_alpha(tmp_path: Path) -> None:
    path = write(tmp_path, "p.png", _palette_with_transparency("PNG"))

    picture = open_source(path, LIMITS).load()

    assert picture.alpha is not None
    assert picture.alpha[5, 5] == 0.0  # the transparent index
    assert picture.alpha[5, 15] == 1.0


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_16bit_grey_is_scaled_not_clipped_to_white(tmp_path: Path, fmt: str) -> None:
    ramp = np.linspace(0, 65535, 256).astype(np.uint16)
    pixels = np.tile(ramp, (8, 1))
    pixels[4:] = 0x8000  # a mid-grey band below the ramp
    path = write(tmp_path, f"g.{fmt.lower()}", save(Image.fromarray(pixels), fmt))

    rgb = open_source(path, LIMITS).load().rgb

    assert 126 <= rgb[4:].mean() <= 130, "mid grey stays mid grey"
    assert rgb[0, 0].max() <= 1 and rgb[0, -1].min() >= 254, "the ramp keeps its range"
    assert np.all(np.diff(rgb[0, :, 0].astype(int)) >= 0), "and its order"


def test_dark_16bit_grey_stays_dark(tmp_path: Path) -> None:
    """Values that happen to be below 256 are still 16-bit: 200/65535 is near black."""
    pixels = np.full((10, 20), 200, np.uint16)
    path = write(tmp_path, "dark.png", save(Image.fromarray(pixels), "PNG"))

    assert open_source(path, LIMITS).load().rgb.max() <= 2


def test_cmyk_with_icc_is_converted_through_its_own_profile(tmp_path: Path) -> None:
    """With a press profile where cyan ink prints yellow, pure cyan must come out yellow;
    the same file without the profile comes out cyan."""
    cyan = Image.new("CMYK", (20, 10), (255, 0, 0, 0))
    tagged = write(tmp_path, "tagged.jpg",
                    save(cyan, "JPEG", quality=95, icc_profile=_cmyk_icc(_inks_turned)))
    plain = write(tmp_path, "plain.jpg", save(cyan, "JPEG", quality=95))

    assert close(open_source(tagged, LIMITS).load().rgb[5, 5], (255, 255, 0), tolerance=12)
    assert close(open_source(plain, LIMITS).load().rgb[5, 5], (0, 255, 255), tolerance=12)


@pytest.mark.parametrize("name", ["tagged.png", "tagged.jpg", "tagged.tif"])
def test_rgb_icc_profile_is_converted_to_srgb(tmp_path: Path, name: str) -> None:
    swapped = swap_icc_tags(decode.srgb_icc(), b"rXYZ", b"bXYZ")
    image = Image.new("RGB", (20, 10), (220, 30, 30))
    fmt = {"png": "PNG", "jpg": "JPEG", "tif": "TIFF"}[name.rsplit(".", 1)[1]]
    path = write(tmp_path, name, save(image, fmt, icc_profile=swapped))

    source = open_source(path, LIMITS)
    full = source.load()
    preview = source.load((5, 5))

    assert close(full.rgb[5, 5], (30, 30, 220), tolerance=12), full.rgb[5, 5]
    assert close(preview.rgb[2, 2], (30, 30, 220), tolerance=12), preview.rgb[2, 2]
    assert full.icc is None, "converted pixels are sRGB"


def test_original_colour_keeps_pixels_and_their_rgb_icc(tmp_path: Path) -> None:
    swapped = swap_icc_tags(decode.srgb_icc(), b"rXYZ", b"bXYZ")
    path = write(tmp_path, "tagged.png",
                  save(Image.new("RGB", (20, 10), (220, 30, 30)), "PNG", icc_profile=swapped))

    picture = open_source(path, LIMITS).load(colour="original")

    assert picture.icc == swapped
    assert tuple(picture.rgb[5, 5]) == (220, 30, 30)


def test_original_colour_still_converts_cmyk(tmp_path: Path) -> None:
    """An output is RGB: a CMYK profile cannot be kept, so CMYK is converted either way."""
    path = write(tmp_path, "c.jpg", save(Image.new("CMYK", (20, 10), (255, 0, 0, 0)), "JPEG",
                                            quality=95, icc_profile=_cmyk_icc(_inks_turned)))

    picture = open_source(path, LIMITS).load(colour="original")

    assert picture.icc is None
    assert close(picture.rgb[5, 5], (255, 255, 0), tolerance=12)


# --------------------------------------------------------------------------- 35 orientation


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF", "WEBP"])
def test_exif_orientation_6_gives_upright_pixels_and_a_swapped_size(
    tmp_path: Path, fmt: str,
) -> None:
    stored = quadrants(60, 40)
    options: dict[str, object] = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    path = write(tmp_path, f"turned.{fmt.lower()}",
                  save(Image.fromarray(stored), fmt, exif=oriented_exif(6), **options))
    upright = np.rot90(stored, k=-1)  # orientation 6: turn 90 degrees clockwise to view

    source = open_source(path, LIMITS)
    full = source.load()
    preview = source.load((10, 15))

    assert source.size == (40, 60)
    assert full.size == source.size
    assert same_quadrants(full.rgb, upright, 8)
    assert preview.size[0] >= 10 and preview.size[1] >= 15
    assert preview.size[0] / preview.size[1] == pytest.approx(40 / 60, rel=0.05)
    assert same_quadrants(preview.rgb, upright, 12)


def test_exif_kept_for_the_output_says_upright_and_keeps_other_tags(tmp_path: Path) -> None:
    path = write(tmp_path, "turned.jpg", save(Image.fromarray(quadrants()), "JPEG",
                                                 exif=oriented_exif(6)))

    source = open_source(path, LIMITS)
    exif = Image.Exif()
    assert source.metadata.exif is not None
    exif.load(source.metadata.exif)

    assert exif[0x0112] == 1
    assert exif[0x010F] == "TestCam"


def test_tiff_exif_drops_the_source_layout_so_any_output_can_carry_it(tmp_path: Path) -> None:
    """A TIFF's tags include its strip offsets and sizes; copied into an output they are stale
    and libtiff refuses to write them."""
    path = write(tmp_path, "studio.tif", save(Image.fromarray(quadrants()), "TIFF",
                                                 exif=oriented_exif(6)))
    source = open_source(path, LIMITS)
    exif = Image.Exif()
    assert source.metadata.exif is not None
    exif.load(source.metadata.exif)

    assert exif[0x010F] == "TestCam"
    assert not {256, 257, 273, 279} & set(exif)
    for fmt in ("jpeg", "png", "webp", "tiff"):
        data = encode.encode(source.load().rgb, Encoding(format=fmt), icc=None,
                             metadata=source.metadata)
        with Image.open(io.BytesIO(data)) as written:
            written.load()
            assert written.size == (40, 60)


# --------------------------------------------------------------------------- 37 trailing bytes


def test_jpeg_with_a_zip_appended_decodes_and_leaves_the_zip_behind(tmp_path: Path) -> None:
    photo = save(product_photo(), "JPEG", quality=95, exif=oriented_exif(1))
    smuggled = zip_bytes()
    plain = write(tmp_path, "plain.jpg", photo)
    path = write(tmp_path, "polyglot.jpg", photo + smuggled)

    source = open_source(path, LIMITS)
    picture = source.load()
    written = encode.encode(picture.rgb, Encoding(format="jpeg"), icc=None,
                             metadata=source.metadata)

    assert np.array_equal(picture.rgb, open_source(plain, LIMITS).load().rgb)
    assert b"TestCam" in written, "the EXIF travels"
    assert b"PK\x03\x04" not in written and b"readme.txt" not in written, "the ZIP does not"


# --------------------------------------------------------------------------- 38 several frames


@pytest.mark.parametrize("fmt", ["GIF", "TIFF", "WEBP"])
def test_animated_or_multipage_file_gives_its_first_frame(tmp_path: Path, fmt: str) -> None:
    """Stated rule: an image with several frames (animation, pages) is its first frame."""
    frames = [Image.new("RGB", (20, 10), colour) for colour in (RED, BLUE, GREEN)]
    data = save(frames[0], fmt, save_all=True, append_images=frames[1:],
                 **({"lossless": True} if fmt == "WEBP" else {}))
    path = write(tmp_path, f"frames.{fmt.lower()}", data)
    with Image.open(path) as check:
        assert check.n_frames == 3

    picture = open_source(path, LIMITS).load()

    assert picture.rgb.shape == (10, 20, 3)
    assert close(picture.rgb[5, 10], RED)


# --------------------------------------------------------------------------- files that are not


@pytest.fixture
def open_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every os.open, so a test can prove a file was never opened."""
    calls: list[str] = []
    real_open = os.open

    def spy(path: object, *args: object, **kwargs: object) -> int:
        calls.append(os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    return calls


def test_symlink_is_refused_and_its_target_never_opened(
    tmp_path: Path, open_calls: list[str],
) -> None:
    target = write(tmp_path, "secret.jpg", save(product_photo(), "JPEG"))
    (tmp_path / "in").mkdir()
    link = tmp_path / "in" / "link.jpg"
    link.symlink_to(target)

    with pytest.raises(InputError) as caught:
        open_source(link, LIMITS)

    assert caught.value.reason == "not-a-file"
    assert str(link) in str(caught.value)
    assert not [c for c in open_calls if c in (str(link), str(target))]


def test_symlink_loop_is_refused(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jpg", tmp_path / "b.jpg"
    a.symlink_to(b)
    b.symlink_to(a)

    with pytest.raises(InputError) as caught:
        open_source(a, LIMITS)

    assert caught.value.reason == "not-a-file"


@pytest.mark.parametrize("via_link", [False, True], ids=["fifo", "link-to-fifo"])
def test_fifo_named_jpg_is_refused_without_blocking(
    tmp_path: Path, open_calls: list[str], via_link: bool,
) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    path = fifo
    if via_link:
        path = tmp_path / "link.jpg"
        path.symlink_to(fifo)

    with _no_hang(), pytest.raises(InputError) as caught:
        open_source(path, LIMITS)

    assert caught.value.reason == "not-a-file"
    assert not [c for c in open_calls if c in (str(path), str(fifo))]


def test_folder_named_jpg_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "album.jpg"
    folder.mkdir()

    with pytest.raises(InputError) as caught:
        open_source(folder, LIMITS)

    assert caught.value.reason == "not-a-file"


def test_empty_file_is_refused_as_empty_and_may_still_grow(tmp_path: Path) -> None:
    path = write(tmp_path, "new.jpg", b"")

    with pytest.raises(InputError) as caught:
        open_source(path, LIMITS)

    assert caught.value.reason == "empty"
    assert caught.value.retryable
    assert str(path) in str(caught.value)


def test_missing_file_is_reported_as_vanished(tmp_path: Path) -> None:
    path = tmp_path / "gone.jpg"

    with pytest.raises(InputError) as caught:
        open_source(path, LIMITS)

    assert caught.value.reason == "vanished"
    assert str(path) in str(caught.value)


def test_unreadable_file_is_a_retryable_input_fault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Simulated: the tests may run as root, which ignores file permissions."""
    path = write(tmp_path, "locked.jpg", save(product_photo(), "JPEG"))

    def denied(*args: object, **kwargs: object) -> int:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(InputError) as caught:
        open_source(path, LIMITS)

    assert caught.value.reason == "unreadable"
    assert caught.value.retryable


# --------------------------------------------------------------------------- draft


def test_jpeg_preview_decodes_at_least_the_asked_size_but_less_than_full(tmp_path: Path) -> None:
    path = write(tmp_path, "large.jpg", save(product_photo((4000, 3000), box=(1200, 800, 2800,
                                                                                2400)), "JPEG"))
    source = open_source(path, LIMITS)

    preview = source.load((500, 400))

    w, h = preview.size
    assert w >= 500 and h >= 400
    assert w < 4000 and h < 3000, "the DCT draft must skip pixels, not decode them all"
    assert w / h == pytest.approx(4 / 3, rel=0.01)
    assert close(preview.rgb[h // 2, w // 2], (200, 30, 30))


# --------------------------------------------------------------------------- fast JPEG path


@pytest.mark.parametrize("orientation", range(1, 9))
def test_fast_jpeg_decode_turns_every_exif_orientation_as_pillow_does(
    tmp_path: Path, orientation: int,
) -> None:
    stored = quadrants(64, 48)
    path = write(tmp_path, "turned.jpg", save(Image.fromarray(stored), "JPEG", quality=95,
                                                 exif=oriented_exif(orientation)))
    with Image.open(path) as image:
        expected = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    calls = []
    real = decode.simplejpeg.decode_jpeg

    def counted(*args: object, **kwargs: object) -> np.ndarray:
        calls.append(kwargs)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(decode.simplejpeg, "decode_jpeg", counted)
        source = open_source(path, LIMITS)
        full = source.load()
        half = open_source(path, LIMITS).load((expected.shape[1] // 2, expected.shape[0] // 2))

    assert len(calls) == 2  # both on the fast path
    assert source.size == full.size == (expected.shape[1], expected.shape[0])
    assert same_quadrants(full.rgb, expected, 8)
    assert half.size == (expected.shape[1] // 2, expected.shape[0] // 2)
    assert same_quadrants(half.rgb, expected, 12)


def test_fast_jpeg_decode_matches_pillow_and_refuses_truncation(tmp_path: Path) -> None:
    pixels = noise(300, 400)
    path = tmp_path / "shot.jpg"
    path.write_bytes(jpeg(pixels, quality=95))
    fast = open_source(path, LIMITS).load()
    careful = np.asarray(Image.open(path).convert("RGB"))
    assert fast.rgb.shape == careful.shape
    assert np.abs(fast.rgb.astype(int) - careful.astype(int)).mean() < 1.5

    small = open_source(path, LIMITS).load((90, 60))
    assert small.size == (100, 75)  # DCT scaling by 4: still >= what was asked

    cut = tmp_path / "cut.jpg"
    cut.write_bytes(path.read_bytes()[:-500])
    with pytest.raises(InputError) as caught:
        open_source(cut, LIMITS).load()
    assert caught.value.reason == "truncated"


@pytest.mark.parametrize("options", [{}, {"progressive": True}, {"quality": 50},
                                     {"subsampling": 0}, {"restart_marker_rows": 1}])
@pytest.mark.parametrize("at_least", [None, (50, 40)], ids=["full", "scaled"])
def test_fast_jpeg_decode_refuses_a_cut_and_accepts_bytes_after_the_end(
    tmp_path: Path, options: dict, at_least: tuple[int, int] | None,
) -> None:
    data = jpeg(noise(), **options)
    if "restart_marker_rows" in options:
        assert b"\xff\xdd" in data  # DRI: this Pillow wrote restart markers
    whole = write(tmp_path, "whole.jpg", data + b"PK\x03\x04" + bytes(range(256)) * 4)
    assert open_source(whole, LIMITS).load(at_least).rgb.size  # a ZIP appended: no matter

    for cut in (len(data) - 1, len(data) - 2, len(data) * 3 // 4, len(data) // 2):
        path = write(tmp_path, f"cut-{cut}.jpg", data[:cut])
        with pytest.raises(InputError) as caught:
            open_source(path, LIMITS).load(at_least)
        assert caught.value.reason == "truncated", cut
        assert f"{path}: truncated JPEG" in str(caught.value)  # said by the fast path


@pytest.mark.parametrize("options", [{}, {"progressive": True}], ids=["baseline", "progressive"])
def test_every_cut_of_a_jpeg_is_refused_as_not_an_image_or_as_truncated(
    tmp_path: Path, options: dict,
) -> None:
    # a file cut in its tables, or between a progressive file's scans, is not cut in a scan:
    # libjpeg-turbo and Pillow call it damaged, and the marker walk then says it is cut short
    data = jpeg(noise(24, 32), quality=90, **options)
    first_scan = data.index(b"\xff\xda")
    scan_data = first_scan + 2 + int.from_bytes(data[first_scan + 2 : first_scan + 4], "big")
    path = tmp_path / "cut.jpg"
    for cut in range(2, len(data)):
        path.write_bytes(data[:cut])
        with pytest.raises(InputError) as caught:
            open_source(path, LIMITS).load()
        reason = caught.value.reason
        assert reason == "truncated" or (reason == "not-an-image" and cut <= scan_data), cut
        if reason == "truncated":
            assert "truncated JPEG (the data ends before the image does)" in str(caught.value)


def test_fast_jpeg_decode_refuses_a_cut_photo_whose_exif_holds_a_whole_thumbnail(
    tmp_path: Path,
) -> None:
    buffer = io.BytesIO()
    Image.fromarray(noise(16, 16)).save(buffer, "JPEG")
    exif = Image.new("RGB", (1, 1)).getexif()
    exif[0x0112] = 1
    data = jpeg(noise(), exif=exif.tobytes() + buffer.getvalue())
    assert open_source(write(tmp_path, "whole.jpg", data), LIMITS).load().rgb.size

    path = write(tmp_path, "cut.jpg", data[: len(data) - 100])
    with pytest.raises(InputError) as caught:
        open_source(path, LIMITS).load()
    assert f"{path}: truncated JPEG" in str(caught.value)  # the thumbnail's EOI is not the end


def test_a_jpeg_with_stray_bytes_between_its_segments_decodes(tmp_path: Path) -> None:
    # libjpeg-turbo warns of the extraneous bytes and decodes the picture; a walk of the
    # markers that stopped at the first stray byte called such a file cut short
    data = jpeg(noise(), quality=95)
    dqt = data.index(b"\xff\xdb")
    path = write(tmp_path, "stray.jpg", data[:dqt] + b"\x00\x00\x00" + data[dqt:])

    picture = open_source(path, LIMITS).load()

    expected = open_source(write(tmp_path, "whole.jpg", data), LIMITS).load()
    assert np.array_equal(picture.rgb, expected.rgb)


def test_the_srgb_profile_written_into_outputs_is_the_same_in_every_process() -> None:
    # LittleCMS stamps the current time into a profile it makes: two processes a second
    # apart wrote different bytes, so a photo made again was not the same file
    code = "from studiocut.imaging import decode; print(decode.srgb_icc().hex())"
    made = []
    for _ in range(2):
        time.sleep(1.1)  # the time stamp counts whole seconds
        made.append(subprocess.run([sys.executable, "-c", code], capture_output=True,
                                   text=True, check=True).stdout)

    assert made[0] == made[1] == decode.srgb_icc().hex() + "\n"
    profile = ImageCms.ImageCmsProfile(io.BytesIO(decode.srgb_icc()))
    assert decode.is_srgb(decode.srgb_icc()) and "sRGB" in ImageCms.getProfileDescription(profile)
