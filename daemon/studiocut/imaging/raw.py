"""raw: camera RAW files through libraw (rawpy): their size from the header, their pixels from
the camera's embedded JPEG preview when it is big enough, demosaiced otherwise."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageOps

from studiocut.errors import InputError

RAW_EXTENSIONS = frozenset({".cr2", ".cr3", ".nef", ".arw", ".dng", ".raf", ".orf", ".rw2"})


def oriented_size(path: Path, data: bytes) -> tuple[int, int]:
    """The (w, h) of a RAW's pixels as they are meant to be seen, read from its header; raise
    InputError if libraw cannot read the file."""
    raw = _rawpy_open(path, data)
    with raw:
        w, h = raw.sizes.width, raw.sizes.height
        if raw.sizes.flip in (5, 6):
            w, h = h, w
    return w, h


def _rawpy_open(path: Path, data: bytes):  # type: ignore[no-untyped-def]
    try:
        import rawpy
    except ImportError as e:  # pragma: no cover - rawpy is a dependency
        raise InputError("unsupported", f"{path}: camera RAW needs rawpy installed") from e
    try:
        return rawpy.imread(io.BytesIO(data))
    except Exception as e:
        raise InputError("not-an-image", f"{path}: not a camera RAW file libraw can read "
                         f"({type(e).__name__}: {e})") from e


# libraw's flip code to Pillow's transpose for the embedded preview
_RAW_FLIP = {3: Image.Transpose.ROTATE_180, 5: Image.Transpose.ROTATE_90,
             6: Image.Transpose.ROTATE_270}


def decode(path: Path, data: bytes, at_least: tuple[int, int] | None) -> Image.Image:
    """Use the camera's embedded JPEG preview when it is at least the size needed (the full
    size when ``at_least`` is None); demosaic otherwise. The preview is stored in sensor
    orientation unless it carries its own EXIF orientation; libraw's flip code turns it."""
    import rawpy

    raw = _rawpy_open(path, data)
    with raw:
        flip = raw.sizes.flip
        sensor = (raw.sizes.width, raw.sizes.height)
        oriented = (sensor[1], sensor[0]) if flip in (5, 6) else sensor
        need = at_least or oriented
        try:
            thumb = raw.extract_thumb()
        except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
            thumb = None
        if thumb is not None and thumb.format == rawpy.ThumbFormat.JPEG:
            preview: Image.Image = Image.open(io.BytesIO(thumb.data), formats=("JPEG",))
            if preview.getexif().get(0x0112, 1) != 1:
                preview = ImageOps.exif_transpose(preview)
            elif flip in _RAW_FLIP:
                preview = preview.transpose(_RAW_FLIP[flip])
            if preview.size[0] >= need[0] and preview.size[1] >= need[1]:
                preview.load()
                return preview
        half = need[0] * 2 <= oriented[0] and need[1] * 2 <= oriented[1]
        rgb = raw.postprocess(use_camera_wb=True, half_size=half, output_bps=8)
    return Image.fromarray(rgb, mode="RGB")
