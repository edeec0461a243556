"""encode: output names that stay in their folder, atomic writes, and the encoded files.

Environment faults (disk full, folder gone, permission denied) are simulated by patching the os
calls, so the tests behave the same as root and as a normal user.
"""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from studiocut.atomic import TEMP_SUFFIX, remove_orphans, write_atomic
from studiocut.errors import InputError, OutputError
from studiocut.imaging import encode
from studiocut.imaging.decode import srgb_icc
from studiocut.imaging.metadata import Metadata
from studiocut.imaging.naming import output_name, output_path
from studiocut.profiles import Encoding

DATA = b"finished cut-out " * 4096  # 68 KB, written in more than one os.write


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(f"*{TEMP_SUFFIX}"))


# --------------------------------------------------------------------------- names


def test_output_name_renders_every_template_field() -> None:
    enc = Encoding(format="png", name="{profile}-{stem}-{source_ext}.{ext}")

    assert output_name(Path("/in/IMG_0001.CR2"), enc, "amazon") == "amazon-IMG_0001-cr2.png"


def test_raw_and_jpeg_of_one_shot_can_be_kept_apart_by_the_template() -> None:
    enc = Encoding(name="{stem}_{source_ext}.{ext}")

    raw = output_name(Path("IMG_0001.CR2"), enc, "p")
    jpeg = output_name(Path("IMG_0001.JPG"), enc, "p")

    assert raw != jpeg


@pytest.mark.parametrize(("template", "source"), [
    ("../{stem}.{ext}", "shot.jpg"),
    ("/etc/{stem}", "shot.jpg"),
    ("cron.d/{stem}", "shot.jpg"),
    ("..\\{stem}.{ext}", "shot.jpg"),
    ("{stem}", ".."),
    ("{stem}", "."),
    ("{stem}{ext}", ""),
], ids=["dotdot", "absolute", "separator", "backslash", "stem-dotdot", "stem-dot", "nul"])
def test_output_name_that_could_leave_its_folder_is_refused(template: str, source: str) -> None:
    """Templates are checked at load; this is the second line, for templates built in code
    and odd file names."""
    enc = Encoding(name=template)
    path = Path(source) if source else Path("shot\x00.jpg")

    with pytest.raises(InputError) as caught:
        output_name(path, enc, "p")

    assert caught.value.reason == "bad-name"


def test_output_path_joins_root_subfolder_and_name(tmp_path: Path) -> None:
    dest = output_path(tmp_path, Path("2024/spring"), Path("/in/2024/spring/mug.jpg"),
                       Encoding(), "p")

    assert dest == tmp_path / "2024" / "spring" / "mug.jpg"


@pytest.mark.parametrize("subfolder", ["../outside", "a/../../outside", "/tmp/outside"])
def test_output_path_subfolder_cannot_escape_the_root(tmp_path: Path, subfolder: str) -> None:
    with pytest.raises(InputError) as caught:
        output_path(tmp_path / "out", Path(subfolder), Path("mug.jpg"), Encoding(), "p")

    assert caught.value.reason == "bad-name"


# --------------------------------------------------------------------------- atomic writes


def test_write_atomic_writes_the_bytes_and_leaves_no_temp(tmp_path: Path) -> None:
    dest = tmp_path / "mug.jpg"

    write_atomic(dest, DATA, root=tmp_path)

    assert dest.read_bytes() == DATA
    assert _leftovers(tmp_path) == []


def test_existing_output_is_replaced_by_a_new_file_not_rewritten(tmp_path: Path) -> None:
    dest = tmp_path / "mug.jpg"
    dest.write_bytes(b"the old cut-out, from yesterday's shot")
    old_inode = dest.stat().st_ino

    write_atomic(dest, DATA, root=tmp_path)

    assert dest.read_bytes() == DATA
    assert dest.stat().st_ino != old_inode, "a rename over the name, never an in-place rewrite"
    assert _leftovers(tmp_path) == []


def test_subfolders_below_the_root_are_created(tmp_path: Path) -> None:
    dest = tmp_path / "2024" / "spring" / "mug.jpg"

    write_atomic(dest, DATA, root=tmp_path)

    assert dest.read_bytes() == DATA


def test_final_name_appears_only_once_the_file_is_complete_and_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    dest = tmp_path / "mug.jpg"
    synced: list[int] = []
    seen_at_rename: list[tuple[bytes, bool, int]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    def replace(src: str | Path, dst: str | Path) -> None:
        seen_at_rename.append((Path(src).read_bytes(), Path(dst).exists(), len(synced)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    write_atomic(dest, DATA, root=tmp_path)

    assert seen_at_rename == [(DATA, False, 1)], "complete, synced, and not yet under its name"
    assert len(synced) == 2, "the folder is synced after the rename"


def test_failed_rename_leaves_neither_the_final_name_nor_a_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    dest = tmp_path / "mug.jpg"
    temps: list[Path] = []

    def replace(src: str | Path, dst: str | Path) -> None:
        temps.append(Path(src))
        assert Path(src).read_bytes() == DATA, "the temp was written in full"
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OutputError) as caught:
        write_atomic(dest, DATA, root=tmp_path)

    assert caught.value.reason == "write-failed"
    assert temps and temps[0].parent == tmp_path, "the temp lives beside the final name"
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == []


def test_missing_output_root_is_reported_and_not_created(tmp_path: Path) -> None:
    root = tmp_path / "share" / "outbox"

    with pytest.raises(OutputError) as caught:
        write_atomic(root / "sub" / "mug.jpg", DATA, root=root)

    assert caught.value.reason == "output-missing"
    assert str(root) in str(caught.value)
    assert not root.exists(), "a missing output folder is a fault to report, not to paper over"


def test_folder_gone_while_writing_is_output_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    def gone(*args: object, **kwargs: object) -> int:
        raise FileNotFoundError(errno.ENOENT, "No such file or directory")

    monkeypatch.setattr(os, "open", gone)
    with pytest.raises(OutputError) as caught:
        write_atomic(tmp_path / "mug.jpg", DATA, root=tmp_path)

    assert caught.value.reason == "output-missing"


@pytest.mark.parametrize("code", [errno.EACCES, errno.EPERM, errno.EROFS])
def test_unwritable_output_folder_is_not_writable_and_names_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int,
) -> None:
    """Simulated, because root ignores folder permissions."""

    def denied(*args: object, **kwargs: object) -> int:
        raise PermissionError(code, os.strerror(code))

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(OutputError) as caught:
        write_atomic(tmp_path / "mug.jpg", DATA, root=tmp_path)

    assert caught.value.reason == "not-writable"
    assert str(tmp_path) in str(caught.value)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EFBIG])
def test_disk_full_midway_is_reported_with_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int,
) -> None:
    real_write = os.write
    calls = []

    def write(fd: int, data: bytes | memoryview) -> int:
        calls.append(fd)
        if len(calls) == 1:
            return real_write(fd, data[: len(data) // 2])  # half of it lands on disk
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "write", write)
    dest = tmp_path / "mug.jpg"
    with pytest.raises(OutputError) as caught:
        write_atomic(dest, DATA, root=tmp_path)

    assert caught.value.reason == "disk-full"
    assert len(calls) == 2, "the short write was continued, then failed"
    assert list(tmp_path.iterdir()) == []


def test_disk_full_reported_at_fsync_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Network file systems report a full disk late, at fsync."""

    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", fsync)
    dest = tmp_path / "mug.jpg"
    dest.write_bytes(b"previous good output")
    with pytest.raises(OutputError) as caught:
        write_atomic(dest, DATA, root=tmp_path)

    assert caught.value.reason == "disk-full"
    assert dest.read_bytes() == b"previous good output", "the previous output is untouched"
    assert _leftovers(tmp_path) == []


def test_remove_orphans_deletes_temps_at_any_depth_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    orphans = [tmp_path / f".mug.jpg.1a2b3c4d{TEMP_SUFFIX}",
               tmp_path / "a" / "b" / f".cup.png.deadbeef{TEMP_SUFFIX}"]
    for orphan in orphans:
        orphan.write_bytes(b"half a file")
    keep = [tmp_path / "mug.jpg", tmp_path / "a" / "notes.tmp", tmp_path / "a" / "b" / "cup.png"]
    for path in keep:
        path.write_bytes(b"finished")

    removed = remove_orphans(tmp_path)

    assert removed == 2
    assert not any(p.exists() for p in orphans)
    assert all(p.read_bytes() == b"finished" for p in keep)


def test_remove_orphans_follows_no_symlink(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    precious = outside / f".x.jpg.00000000{TEMP_SUFFIX}"
    precious.write_bytes(b"not ours")
    target = outside / "target.jpg"
    target.write_bytes(b"not ours either")
    out = tmp_path / "out"
    out.mkdir()
    (out / "linked-folder").symlink_to(outside, target_is_directory=True)
    link = out / f".y.jpg.11111111{TEMP_SUFFIX}"
    link.symlink_to(target)

    removed = remove_orphans(out)

    assert removed == 0
    assert precious.read_bytes() == b"not ours"
    assert target.read_bytes() == b"not ours either"


# --------------------------------------------------------------------------- encoded files


def _picture(alpha: bool = False) -> np.ndarray:
    """A 120 x 80 image with a gradient (so compression settings matter) and a subject."""
    h, w = 80, 120
    pixels = np.zeros((h, w, 4 if alpha else 3), dtype=np.uint8)
    pixels[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[np.newaxis, :]
    pixels[..., 1] = np.linspace(0, 255, h, dtype=np.uint8)[:, np.newaxis]
    pixels[..., 2] = 90
    if alpha:
        pixels[..., 3] = 0
        pixels[20:60, 30:90, 3] = 255
        pixels[20:60, 30:90, :3] = (200, 30, 30)
    return pixels


def _camera_exif(orientation: int = 6) -> bytes:
    """EXIF as a camera writes it: an orientation, 72 dpi, a maker and a capture time."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "TestCam"
    exif[0x011A] = exif[0x011B] = 72.0
    exif[0x0128] = 2
    exif.get_ifd(0x8769)[0x9003] = "2024:05:01 10:00:00"
    return exif.tobytes()


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "tiff": "TIFF"}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_encoded_file_opens_as_the_format_at_the_same_size(fmt: str) -> None:
    pixels = _picture()

    image = _open(encode.encode(pixels, Encoding(format=fmt), icc=None, metadata=None))

    assert image.format == FORMATS[fmt]
    assert image.size == (120, 80)
    assert image.mode == "RGB"
    error = np.abs(np.asarray(image, dtype=int) - pixels)
    if fmt in ("png", "tiff"):
        assert error.max() == 0, "lossless"
    else:
        assert error.mean() < 4


@pytest.mark.parametrize("fmt", ["png", "webp", "tiff"])
def test_transparent_output_keeps_its_alpha(fmt: str) -> None:
    pixels = _picture(alpha=True)

    image = _open(encode.encode(pixels, Encoding(format=fmt), icc=None, metadata=None))

    assert image.mode == "RGBA"
    alpha = np.asarray(image.getchannel("A"))
    assert alpha[0, 0] == 0 and alpha[40, 60] == 255


@pytest.mark.parametrize(("fmt", "dpi"), [("jpeg", 300), ("png", 300), ("tiff", 300),
                                          ("jpeg", 72), ("tiff", 600)])
def test_dpi_is_written(fmt: str, dpi: int) -> None:
    image = _open(encode.encode(_picture(), Encoding(format=fmt, dpi=dpi), icc=None, metadata=None))

    assert image.info["dpi"] == pytest.approx((dpi, dpi), abs=0.01)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_icc_profile_is_embedded(fmt: str) -> None:
    icc = srgb_icc()

    image = _open(encode.encode(_picture(), Encoding(format=fmt), icc=icc, metadata=None))

    assert image.info.get("icc_profile") == icc


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_exif_is_kept_but_says_upright_and_matches_the_dpi(fmt: str) -> None:
    """Pixels reach encode already upright: a carried orientation of 6 would make viewers
    turn the photo a second time, and a camera's 72 dpi would contradict the profile's."""
    image = _open(encode.encode(_picture(), Encoding(format=fmt, dpi=300), icc=None,
                                metadata=Metadata(exif=_camera_exif(orientation=6))))

    exif = image.getexif()
    assert exif.get(0x0112) == 1
    assert exif.get(0x010F) == "TestCam"
    assert float(exif.get(0x011A)) == pytest.approx(300)
    assert float(exif.get(0x011B)) == pytest.approx(300)
    if fmt != "tiff":
        assert exif.get_ifd(0x8769).get(0x9003) == "2024:05:01 10:00:00"


@pytest.mark.parametrize("compression", ["none", "lzw", "deflate"])
def test_camera_exif_does_not_stop_a_tiff_from_being_written(compression: str) -> None:
    """Stated rule: a TIFF keeps the main EXIF tags but not the Exif/GPS sub-directories,
    which libtiff cannot write (it raised "Error setting from dictionary" for every photo)."""
    enc = Encoding(format="tiff", tiff_compression=compression)

    image = _open(encode.encode(_picture(), enc, icc=None, metadata=Metadata(exif=_camera_exif())))

    assert image.getexif().get(0x010F) == "TestCam"
    assert np.array_equal(np.asarray(image), _picture())


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_no_metadata_is_invented_when_none_is_given(fmt: str) -> None:
    image = _open(encode.encode(_picture(), Encoding(format=fmt), icc=None, metadata=None))

    assert image.getexif().get(0x010F) is None
    assert "xmp" not in image.info and "photoshop" not in image.info


def test_jpeg_quality_setting_is_used() -> None:
    pixels = (np.random.default_rng(7).random((80, 120, 3)) * 255).astype(np.uint8)

    low = encode.encode(pixels, Encoding(format="jpeg", quality=30), icc=None, metadata=None)
    high = encode.encode(pixels, Encoding(format="jpeg", quality=95), icc=None, metadata=None)

    assert len(low) < len(high) * 0.7


@pytest.mark.parametrize("quality", [1, 50, 92, 95, 100])
def test_jpeg_pixels_are_those_pillow_writes(quality: int) -> None:
    """The same scan as Pillow's encoder (baseline, 4:2:0, the accurate DCT at every
    quality): only the way the pixels reach libjpeg-turbo changed."""
    pixels = (np.random.default_rng(3).random((64, 96, 3)) * 255).astype(np.uint8)
    pixels = np.asarray(Image.fromarray(pixels).resize((192, 130), Image.BILINEAR))
    ours = encode.encode(pixels, Encoding(format="jpeg", quality=quality), icc=None,
                         metadata=None)
    theirs = io.BytesIO()
    Image.fromarray(pixels).save(theirs, "JPEG", quality=quality)

    def scan(data: bytes) -> bytes:
        return data[data.index(b"\xff\xdb"):]  # the tables, the frame and the scan

    assert scan(ours) == scan(theirs.getvalue())


@pytest.mark.parametrize(("size", "segments"), [(65519, 1), (65520, 2), (131038, 2),
                                                (131039, 3)])
def test_an_icc_profile_is_split_into_as_few_jpeg_segments_as_hold_it(size: int,
                                                                      segments: int) -> None:
    icc = (srgb_icc() + bytes(range(256)) * 600)[:size]
    data = encode.encode(_picture(), Encoding(format="jpeg"), icc=icc, metadata=None)

    assert data.count(b"ICC_PROFILE\x00") == segments
    assert _open(data).info["icc_profile"] == icc


@pytest.mark.parametrize(("size", "kept"), [(65533, True), (65534, False)])
def test_an_exif_block_too_large_for_a_jpeg_segment_is_left_out_with_a_log_line(
        caplog: pytest.LogCaptureFixture, size: int, kept: bool) -> None:
    exif = b"Exif\x00\x00" + Image.Exif().tobytes()[6:]
    exif += bytes(size - len(exif))  # padding after the directory: still valid EXIF
    data = encode._jpeg(_picture(), 92, dpi=300, icc=None, exif=exif, meta=Metadata())

    assert (exif in data) is kept
    assert ("EXIF block of" in caplog.text and "written without it" in caplog.text) is not kept
    _open(data)


def test_png_level_setting_is_used() -> None:
    pixels = _picture()

    stored = encode.encode(pixels, Encoding(format="png", png_level=0), icc=None, metadata=None)
    packed = encode.encode(pixels, Encoding(format="png", png_level=9), icc=None, metadata=None)

    assert len(packed) < len(stored) * 0.7
    assert np.array_equal(np.asarray(_open(packed)), np.asarray(_open(stored)))


@pytest.mark.parametrize("level", [0, 1, 2, 3, 6, 9])
@pytest.mark.parametrize("shape", [(80, 120, 3), (80, 120, 4), (1, 7, 4), (5, 1, 3)])
def test_png_at_every_level_gives_back_its_pixels_to_pillow_and_libpng(
        level: int, shape: tuple[int, int, int]) -> None:
    rng = np.random.default_rng(level)
    pixels = (_picture(alpha=shape[2] == 4)[:shape[0], :shape[1]]
              + rng.integers(0, 3, shape, dtype=np.uint8))  # noise, so that rows differ

    data = encode.encode(pixels, Encoding(format="png", png_level=level), icc=None,
                         metadata=None)

    assert np.array_equal(np.asarray(_open(data)), pixels)  # Pillow checks every CRC
    order = cv2.COLOR_BGRA2RGBA if shape[2] == 4 else cv2.COLOR_BGR2RGB
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(cv2.cvtColor(decoded.reshape(shape), order), pixels)


@pytest.mark.parametrize(("level", "isal"), [(0, False), (1, True), (2, True), (3, False),
                                             (9, False)])
def test_png_levels_one_and_two_are_deflated_by_isa_l(
        monkeypatch: pytest.MonkeyPatch, level: int, isal: bool) -> None:
    levels: list[int] = []
    compress = encode.isal_zlib.compress

    def counted(data: bytes, level: int) -> bytes:
        levels.append(level)
        return compress(data, level)

    monkeypatch.setattr(encode.isal_zlib, "compress", counted)

    data = encode.encode(_picture(), Encoding(format="png", png_level=level), icc=None,
                         metadata=None)

    assert levels == ([level] if isal else [])
    assert np.array_equal(np.asarray(_open(data)), _picture())


def _png_chunks(data: bytes) -> list[tuple[bytes, int]]:
    chunks, pos = [], 8
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        chunks.append((data[pos + 4:pos + 8], length))
        pos += 12 + length
    return chunks


def test_png_pixels_too_many_for_one_chunk_are_cut_into_consecutive_idat_chunks() -> None:
    pixels = np.random.default_rng(5).integers(0, 256, (600, 800, 4), dtype=np.uint8)

    data = encode.encode(pixels, Encoding(format="png", png_level=0), icc=None, metadata=None)

    chunks = _png_chunks(data)
    idat = [i for i, (kind, _) in enumerate(chunks) if kind == b"IDAT"]
    assert len(idat) == 2 and idat == list(range(idat[0], idat[0] + len(idat)))
    assert all(length <= 1 << 20 for kind, length in chunks if kind == b"IDAT")
    assert np.array_equal(np.asarray(_open(data)), pixels)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(cv2.cvtColor(decoded, cv2.COLOR_BGRA2RGBA), pixels)


@pytest.mark.parametrize("pixels", [np.zeros((4, 4, 3), np.uint16), np.zeros((4, 4, 2), np.uint8),
                                    np.zeros((4, 4, 3), np.float32), np.zeros((4, 4), np.uint8)])
def test_png_refuses_pixels_it_would_write_wrongly(pixels: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"8-bit RGB or RGBA pixels, not an array of shape"):
        encode.encode(pixels, Encoding(format="png"), icc=None, metadata=None)


@pytest.mark.parametrize(("setting", "written"), [("none", "raw"), ("lzw", "tiff_lzw"),
                                                  ("deflate", "tiff_adobe_deflate")])
def test_tiff_compression_setting_is_used(setting: str, written: str) -> None:
    data = encode.encode(_picture(), Encoding(format="tiff", tiff_compression=setting),
                         icc=None, metadata=None)

    image = _open(data)

    assert image.info["compression"] == written
    assert np.array_equal(np.asarray(image), _picture())


def test_png_is_lossless_with_alpha_and_its_metadata_comes_before_the_pixels() -> None:
    rng = np.random.default_rng(11)
    pixels = rng.integers(0, 256, (80, 120, 4), dtype=np.uint8)
    icc = srgb_icc()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"/>'

    data = encode.encode(pixels, Encoding(format="png", dpi=300), icc=icc,
                         metadata=Metadata(exif=_camera_exif(orientation=6), xmp=xmp))

    image = _open(data)  # Pillow checks every chunk's CRC
    assert np.array_equal(np.asarray(image), pixels)
    kinds = [kind for kind, _ in _png_chunks(data)]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    first_pixels = kinds.index(b"IDAT")
    assert {b"pHYs", b"iCCP", b"eXIf", b"iTXt"} <= set(kinds[:first_pixels])
    assert image.info["icc_profile"] == icc and image.getexif().get(0x0112) == 1
    assert image.info["xmp"] == xmp
