"""Input files for the tests of decode, formats and raw, built in memory with Pillow and numpy:
nothing is copied from sample folders. Coloured quadrants tell every rotation and flip apart."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

RED, GREEN, BLUE, YELLOW = (220, 0, 0), (0, 200, 0), (0, 0, 220), (240, 240, 0)


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def save(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def swap_icc_tags(icc: bytes, a: bytes, b: bytes) -> bytes:
    """The profile with tags ``a`` and ``b`` exchanged (swapping rXYZ and bXYZ of sRGB gives
    an RGB space whose red is sRGB's blue)."""
    data = bytearray(icc)
    (count,) = struct.unpack(">I", data[128:132])
    entries = {bytes(data[132 + 12 * i : 136 + 12 * i]): 132 + 12 * i for i in range(count)}
    ea, eb = entries[a], entries[b]
    data[ea + 4 : ea + 12], data[eb + 4 : eb + 12] = data[eb + 4 : eb + 12], data[ea + 4 : ea + 12]
    return bytes(data)


def quadrants(w: int = 60, h: int = 40) -> np.ndarray:
    """An image no rotation or flip maps onto itself: four coloured quadrants."""
    pixels = np.zeros((h, w, 3), dtype=np.uint8)
    pixels[: h // 2, : w // 2] = RED
    pixels[: h // 2, w // 2 :] = GREEN
    pixels[h // 2 :, : w // 2] = BLUE
    pixels[h // 2 :, w // 2 :] = YELLOW
    return pixels


def quadrant_colours(rgb: np.ndarray) -> list[tuple[int, ...]]:
    """The colour at the centre of each quadrant: top-left, top-right, bottom-left, bottom-right."""
    h, w = rgb.shape[:2]
    ys, xs = (h // 4, 3 * h // 4), (w // 4, 3 * w // 4)
    points = [(ys[0], xs[0]), (ys[0], xs[1]), (ys[1], xs[0]), (ys[1], xs[1])]
    return [tuple(int(v) for v in rgb[y, x]) for y, x in points]


def same_quadrants(rgb: np.ndarray, expected: np.ndarray, tolerance: int) -> bool:
    got, want = quadrant_colours(rgb), quadrant_colours(expected)
    assert np.abs(np.array(got) - np.array(want)).max() <= tolerance, (got, want)
    return True


def close(a: tuple[int, ...] | np.ndarray, b: tuple[int, ...], tolerance: int = 8) -> bool:
    return bool(np.abs(np.asarray(a, dtype=int) - np.asarray(b, dtype=int)).max() <= tolerance)


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photos/readme.txt", "not a photo")
    return buffer.getvalue()


def oriented_exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "TestCam"
    return exif.tobytes()


def jpeg(pixels: np.ndarray, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", **options)
    return buffer.getvalue()


def noise(h: int = 96, w: int = 128) -> np.ndarray:
    return np.random.default_rng(3).integers(0, 256, (h, w, 3), dtype=np.uint8)
