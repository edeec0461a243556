"""formats: which files are images we accept, told by their content, never by their name.

Formats are allow-listed (no EPS, no PDF: Ghostscript never runs); Pillow is set up to refuse
decompression bombs and truncated data; HEIF opens through pillow-heif. Camera RAW is told by
its extension and read by ``raw``.
"""

from __future__ import annotations

import logging
import re
import warnings

from PIL import Image, ImageFile

log = logging.getLogger(__name__)

# Pillow formats we accept, by their Pillow names. Everything else is refused before decoding,
# whatever the file's extension says (an EPS named .jpg never reaches Ghostscript).
ALLOWED_FORMATS = ("JPEG", "PNG", "TIFF", "WEBP", "BMP", "GIF", "HEIF")

# Our own pixel limit is checked on the header; Pillow's decompression-bomb warning (issued
# between 1x and 2x its global limit) is an error, never a warning to ignore.
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)
Image.MAX_IMAGE_PIXELS = 250_000_000
ImageFile.LOAD_TRUNCATED_IMAGES = False

try:
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a dependency, but HEIF is optional
    log.debug("pillow-heif not installed: HEIC/HEIF inputs will be refused")

Image.init()
PILLOW_FORMATS = tuple(f for f in ALLOWED_FORMATS if f in Image.OPEN)  # JPEG also opens MPO


def what_is(data: bytes) -> str:
    """A few words on what a non-image file looks like, for error messages."""
    head = data[:512].lstrip().lower()
    if head.startswith(b"%!ps") or data[:4] == b"\xc5\xd0\xd3\xc6":
        return "looks like PostScript/EPS, which is not allowed"
    if head.startswith(b"%pdf"):
        return "looks like a PDF, which is not allowed"
    if head.startswith((b"<!doctype html", b"<html")):
        return "looks like an HTML page"
    if data[:4] == b"PK\x03\x04":
        return "looks like a ZIP archive"
    if all(32 <= b < 127 or b in (9, 10, 13) for b in data[:512]):
        return "looks like text"
    return "unrecognised content"


_ENTROPY_MARKER = re.compile(rb"\xff[^\x00\xff\xd0-\xd7]")


def jpeg_complete(data: bytes) -> bool:
    """True when a JPEG's markers run from SOI to an EOI: False when the data is cut short.
    Segments are skipped by their lengths; inside entropy-coded scans, stuffed 0xFF00 bytes and
    restart markers are not markers. Bytes after the EOI (a ZIP appended) do not matter."""
    n = len(data)
    if data[:2] != b"\xff\xd8":
        return False
    pos = 2
    while pos < n:
        if data[pos] != 0xFF:
            return False
        while pos < n and data[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= n:
            return False
        marker = data[pos]
        pos += 1
        if marker == 0xD9:
            return True
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            continue
        if pos + 2 > n:
            return False
        end = pos + int.from_bytes(data[pos : pos + 2], "big")
        if end > n:
            return False
        pos = end
        if marker == 0xDA:  # a scan: its entropy-coded data runs to the next real marker
            found = _ENTROPY_MARKER.search(data, pos)
            if found is None:
                return False
            pos = found.start()
    return False
