"""decode: turn one input file into sRGB pixels, safely.

Formats are allow-listed (no EPS, no PDF: Ghostscript never runs: see ``formats``; camera RAW
is read by ``raw``). The pixel limit comes from the
profile and is checked on the header, before any pixel is decoded; truncated files are refused,
never grey-filled. EXIF orientation is applied, ICC profiles honoured, 16-bit and CMYK converted
without clipping. The source's EXIF, IPTC and XMP are read once, for the output (``metadata``).
"""

from __future__ import annotations

import io
import logging
import os
import re
import stat
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import simplejpeg
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from studiocut.errors import InputError
from studiocut.imaging import metadata, raw
from studiocut.imaging.formats import PILLOW_FORMATS, jpeg_complete, what_is
from studiocut.imaging.metadata import Metadata
from studiocut.profiles import Limits

log = logging.getLogger(__name__)

Colour = Literal["srgb", "original"]
JPEG_FORMATS = ("JPEG", "MPO")  # Pillow's names for a JPEG (MPO: a camera's with previews)
Size = tuple[int, int]


@dataclass(frozen=True)
class Picture:
    """Decoded pixels: ``rgb`` is H x W x 3 uint8; ``alpha`` (H x W float32) when the source
    had transparency. ``icc`` is the profile the pixels are in (None means sRGB)."""

    rgb: np.ndarray
    alpha: np.ndarray | None
    icc: bytes | None

    @property
    def size(self) -> Size:
        return (self.rgb.shape[1], self.rgb.shape[0])


@lru_cache(maxsize=1)
def srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@lru_cache(maxsize=1)
def srgb_icc() -> bytes:
    """The sRGB profile written into outputs, the same bytes in every process: LittleCMS
    stamps the time it made the profile into its header, which is set to a fixed date here
    so that a photo made again (a re-run, a cluster worker) gives the same file."""
    data = bytearray(srgb_profile().tobytes())
    data[24:36] = _PROFILE_DATE  # the header's dateTimeNumber; the profile ID stays unset
    return bytes(data)


_PROFILE_DATE = bytes.fromhex("07ea" "0001" "0001" "0000" "0000" "0000")  # 2026-01-01 00:00:00


_PROBE = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [128, 128, 128],
                    [40, 90, 200], [230, 180, 40], [10, 10, 10]]], dtype=np.uint8)


@lru_cache(maxsize=64)
def is_srgb(icc: bytes) -> bool:
    """True when a colour profile maps colours to sRGB unchanged (within one level): then the
    pixels need no conversion. Tested on colours, not trusted from the profile's name."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        probe = Image.fromarray(_PROBE, mode="RGB")
        converted = ImageCms.profileToProfile(probe, profile, srgb_profile(), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return False
    if converted is None:
        return False
    difference = np.abs(np.asarray(converted, dtype=np.int16) - _PROBE.astype(np.int16))
    return int(difference.max()) <= 1


def shrink(rgb: np.ndarray, at_least: Size) -> np.ndarray:
    """A smaller copy of ``rgb`` that is still at least ``at_least`` (w, h), or ``rgb`` when
    that saves little. It is halved as often as that allows, with OpenCV's area averaging
    one halving at a time: the same 2x2 means as a single /8 area resize, two to three times
    faster (7-10 ms against 19-20 ms for a 24 MP photo: the halving has a vectorised path)."""
    while rgb.shape[1] // 2 >= at_least[0] and rgb.shape[0] // 2 >= at_least[1]:
        h, w = rgb.shape[:2]
        rgb = cv2.resize(rgb, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    return rgb


def to_srgb(rgb: np.ndarray, icc: bytes) -> np.ndarray:
    """``rgb``, in the colours of the profile ``icc``, converted to sRGB."""
    return np.asarray(_icc_to_srgb(Image.fromarray(rgb, mode="RGB"), icc))


def upright(rgb: np.ndarray, orientation: int) -> np.ndarray:
    """Turn pixels stored with EXIF ``orientation`` (1-8) the way they are meant to be seen."""
    if orientation in (2, 4):
        return cv2.flip(rgb, 1 if orientation == 2 else 0)
    if orientation in (3, 6, 8):
        turn = {3: cv2.ROTATE_180, 6: cv2.ROTATE_90_CLOCKWISE, 8: cv2.ROTATE_90_COUNTERCLOCKWISE}
        return cv2.rotate(rgb, turn[orientation])
    if orientation in (5, 7):  # mirrored about a diagonal
        transposed = cv2.transpose(rgb)
        return transposed if orientation == 5 else cv2.flip(transposed, -1)
    return rgb


class Scratch:
    """A buffer to decode JPEGs into, kept from one photo to the next: a fresh 72 MB array for
    each 24 MP photo costs the kernel 20 ms of page faults (measured here), as much as a
    quarter of the decode. What was decoded into it is valid until its next use."""

    def __init__(self) -> None:
        self.buffer = np.empty(0, dtype=np.uint8)

    def take(self, size: int) -> np.ndarray:
        """The first ``size`` bytes of the buffer, grown to hold them if need be."""
        if self.buffer.size < size:
            self.buffer = np.empty(0, dtype=np.uint8)  # the old one goes first
            self.buffer = np.empty(size, dtype=np.uint8)
        return self.buffer[:size]

    def holds(self, pixels: np.ndarray) -> bool:
        """Whether ``pixels`` may lie in this buffer."""
        return bool(np.may_share_memory(pixels, self.buffer))


class Source:
    """An input file whose header has been checked. ``size`` is the full size after EXIF
    orientation. ``load`` decodes it at (at least) a requested size."""

    def __init__(self, path: Path, data: bytes, image: Image.Image | None, size: Size,
                 metadata: Metadata, orientation: int = 1) -> None:
        self.path = path
        self.orientation = orientation  # EXIF orientation of the stored pixels
        self._data = data
        self._opened = image
        self._full: Image.Image | None = None
        self._pictures: dict[Colour, Picture] = {}  # the full decode, converted
        self._released = False
        self.size = size
        self.metadata = metadata  # EXIF (orientation reset to 1), IPTC, XMP: for the output

    def release(self) -> None:
        """Let go of every decoded pixel kept for a later ``load``: the source is done with
        (a ``load`` after this is an error)."""
        self._full = None
        self._pictures.clear()
        self._data = b""  # the file's bytes
        if self._opened is not None:
            self._opened.close()  # a PNG's or TIFF's pixels, held since reading its EXIF
        self._released = True

    @property
    def format(self) -> str:
        return self._opened.format or "?" if self._opened is not None else "RAW"

    def load(self, at_least: Size | None = None, *, colour: Colour = "srgb",
             scratch: Scratch | None = None) -> Picture:
        """Return the picture decoded so that it is at least ``at_least`` (w, h) in size, or at
        full size when None; raise InputError if the pixel data is bad. A plain JPEG is
        decoded into ``scratch`` when given: its pixels are then valid until the scratch
        buffer's next use."""
        if self._released:
            raise RuntimeError(f"{self.path}: released, not to be loaded again")
        try:
            fast = self._decode_fast(at_least, scratch)
            if fast is not None:
                return fast
            image = self._decode(at_least)
            if image is not self._full:
                return _to_picture(image, colour)
            if colour not in self._pictures:  # the model's preview and the output share it
                self._pictures[colour] = _to_picture(image, colour)
            return self._pictures[colour]
        except InputError:
            raise
        except Image.DecompressionBombError as e:
            raise InputError("too-large", f"{self.path}: {e}") from e
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as e:
            if self.format in JPEG_FORMATS and not jpeg_complete(self._data):
                raise _cut_short(self.path) from e  # in its tables, or between two scans
            raise _pixel_error(self.path, e) from e

    def _decode_fast(self, at_least: Size | None, scratch: Scratch | None) -> Picture | None:
        """Plain sRGB colour JPEGs (what cameras write) decode straight into a numpy array with
        libjpeg-turbo (simplejpeg), DCT-scaled when ``at_least`` allows: no Pillow image and no
        copy to numpy; OpenCV's imdecode decodes into a buffer of its own and copies that,
        twice the memory at the peak and 30 % slower for 24 MP. A file cut short in a scan
        raises InputError: libjpeg-turbo says so. Anything else (CMYK, another colour profile,
        a file cut in its tables, a damaged one) returns None for the careful path, where a
        JPEG that Pillow cannot decode either has its markers walked (``jpeg_complete``: 3.3 ms
        of a 6.5 MB photo, spent on failures only) to tell a file cut short from a damaged
        one."""
        image = self._opened
        if image is None or image.format not in JPEG_FORMATS or image.mode != "RGB":
            return None
        icc = image.info.get("icc_profile")
        if icc and not is_srgb(icc):
            return None
        factor = 1
        if at_least is not None:
            for candidate in (8, 4, 2):
                w, h = self.size
                if w // candidate >= at_least[0] and h // candidate >= at_least[1]:
                    factor = candidate
                    break
        w, h = image.size  # as stored; scaling by a power of two: other factors are slower
        buffer = None if scratch is None else scratch.take(-(-w // factor) * -(-h // factor) * 3)
        try:  # strict: libjpeg-turbo's warnings are errors, a file cut short among them
            rgb = simplejpeg.decode_jpeg(self._data, "RGB", min_width=-(-w // factor),
                                         min_height=-(-h // factor), min_factor=factor,
                                         buffer=buffer, strict=True)
        except ValueError as e:
            if "Premature end" in str(e):
                raise _cut_short(self.path) from e
            return None  # let Pillow decode it or say what is wrong
        return Picture(rgb=upright(rgb, self.orientation), alpha=None, icc=None)

    def _decode(self, at_least: Size | None) -> Image.Image:
        if self._opened is None:
            return raw.decode(self.path, self._data, at_least)
        if self._opened.format in JPEG_FORMATS and at_least is not None:
            return _decode_jpeg_draft(self._data, at_least, self.size)
        if self._full is None:
            image = self._opened  # already holds the pixels when reading EXIF needed them (PNG)
            image.load()
            self._full = ImageOps.exif_transpose(image)
        return self._full


def open_source(path: Path, limits: Limits) -> Source:
    """Given a path, check it is a regular image file within ``limits`` and return a Source;
    raise InputError naming the file and the reason otherwise. Symlinks and special files
    (FIFOs, devices) are never followed or opened for reading."""
    data = _read_regular_file(path, limits)
    if not data:
        raise InputError("empty", f"{path}: empty file (0 bytes)", retryable=True)
    if path.suffix.lower() in raw.RAW_EXTENSIONS:
        return _open_raw(path, data, limits)
    try:
        image = Image.open(io.BytesIO(data), formats=PILLOW_FORMATS)
    except UnidentifiedImageError as e:
        raise InputError("not-an-image", f"{path}: not an image in an allowed format "
                         f"({', '.join(PILLOW_FORMATS)}; {what_is(data)})") from e
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise _too_many_pixels(path, e, limits) from e
    except (OSError, SyntaxError, ValueError) as e:
        raise InputError("not-an-image", f"{path}: cannot read the image header: {e}") from e
    w, h = image.size
    if image.format == "TIFF":  # recent Pillow reports a TIFF's size already turned upright
        tags = getattr(image, "tag_v2", {})
        w, h = tags.get(256, w), tags.get(257, h)  # ImageWidth, ImageLength as stored
    _check_pixels(path, w, h, limits)
    try:  # PNG's getexif decodes the pixels (eXIf may follow IDAT): bad data surfaces here
        orientation = image.getexif().get(0x0112, 1)
    except (OSError, SyntaxError, ValueError) as e:
        raise _pixel_error(path, e) from e
    size = (h, w) if orientation in (5, 6, 7, 8) else (w, h)
    return Source(path, data, image, size, metadata.read(image, source=path), orientation)


def _open_raw(path: Path, data: bytes, limits: Limits) -> Source:
    w, h = raw.oriented_size(path, data)
    _check_pixels(path, w, h, limits)
    return Source(path, data, None, (w, h), Metadata())


def _read_regular_file(path: Path, limits: Limits) -> bytes:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_BINARY", 0)
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            raise InputError("not-a-file", f"{path}: is a symbolic link; links are not followed")
        if not stat.S_ISREG(st.st_mode):
            raise InputError("not-a-file", f"{path}: not a regular file")
        fd = os.open(path, flags)
    except FileNotFoundError as e:
        raise InputError("vanished", f"{path}: file no longer exists") from e
    except PermissionError as e:
        raise InputError("unreadable", f"{path}: input unreadable: permission denied",
                         retryable=True) from e
    except OSError as e:
        if e.errno == getattr(os, "ELOOP", -1):
            raise InputError("not-a-file", f"{path}: is a symbolic link") from e
        raise InputError("unreadable", f"{path}: input unreadable: {e.strerror}",
                         retryable=True) from e
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # swapped for something else after lstat
            raise InputError("not-a-file", f"{path}: not a regular file")
        if st.st_size > limits.max_bytes:
            raise InputError("too-large", f"{path}: {st.st_size} bytes is over the profile's "
                             f"limit of {limits.max_bytes} bytes")
        with os.fdopen(fd, "rb", closefd=True) as f:
            fd = -1
            # the size read, not the limit: read(n) allocates n bytes up front
            data = f.read(st.st_size + 1)
            if len(data) > st.st_size:  # still growing: the rest, within the limit
                data += f.read(limits.max_bytes + 1 - len(data))
        if len(data) > limits.max_bytes:
            raise InputError("too-large", f"{path}: over the profile's limit of "
                             f"{limits.max_bytes} bytes")
        return data
    except OSError as e:
        raise InputError("unreadable", f"{path}: input unreadable: {e.strerror or e}",
                         retryable=True) from e
    finally:
        if fd >= 0:
            os.close(fd)


def _check_pixels(path: Path, w: int, h: int, limits: Limits) -> None:
    if w <= 0 or h <= 0:
        raise InputError("not-an-image", f"{path}: image has no pixels ({w} x {h})")
    if w * h > limits.max_pixels:
        raise InputError("too-large", f"{path}: {w} x {h} = {w * h / 1e6:.1f} MP is over the "
                         f"profile's limit of {limits.max_pixels / 1e6:.1f} MP "
                         "(limits.max_pixels)")


def _too_many_pixels(path: Path, e: Exception, limits: Limits) -> InputError:
    """Pillow's refusal of a decompression bomb, in the profile's terms (its message quotes
    its own internal limit, which the studio never set)."""
    found = re.search(r"\((\d+) pixels\)", str(e))
    size = f"{int(found.group(1)) / 1e6:.1f} MP is " if found else ""
    return InputError("too-large", f"{path}: {size}over the profile's limit of "
                      f"{limits.max_pixels / 1e6:.1f} MP (limits.max_pixels)")


def _cut_short(path: Path) -> InputError:
    return InputError("truncated", f"{path}: truncated JPEG (the data ends before the image "
                      "does)")


def _pixel_error(path: Path, e: Exception) -> InputError:
    text = str(e)
    if "truncated" in text or "premature" in text.lower() or "broken data stream" in text:
        return InputError("truncated", f"{path}: truncated or damaged image data ({text})")
    return InputError("corrupt", f"{path}: cannot decode the image: {text}")


def _decode_jpeg_draft(data: bytes, at_least: Size, oriented_size: Size) -> Image.Image:
    """Decode a JPEG with DCT-domain downscaling to the smallest scale >= ``at_least``."""
    image = Image.open(io.BytesIO(data), formats=("JPEG",))
    orientation = image.getexif().get(0x0112, 1)
    want_w, want_h = at_least
    if orientation in (5, 6, 7, 8):
        want_w, want_h = want_h, want_w
    if want_w < image.size[0] and want_h < image.size[1]:
        image.draft(None, (want_w, want_h))
    image.load()
    return ImageOps.exif_transpose(image)


def _to_picture(image: Image.Image, colour: Colour) -> Picture:
    """Convert any decoded mode to 8-bit RGB (+ float alpha), in sRGB unless ``colour`` is
    ``original`` and the source profile is an RGB one."""
    alpha: np.ndarray | None = None
    icc = image.info.get("icc_profile") or None
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        image = _wide_grey_to_l(image)
        mode = "L"
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode in ("1", "L;16"):
        image = image.convert("L")
    elif mode in ("PA", "La", "RGBa"):
        image = image.convert("RGBA")
    mode = image.mode
    if mode in ("RGBA", "LA"):
        alpha = np.asarray(image.getchannel("A"), dtype=np.float32) / 255.0
        image = image.convert("RGB" if mode == "RGBA" else "L")
        if not alpha.size or alpha.min() >= 1.0:
            alpha = None
    if icc and image.mode in ("RGB", "L", "CMYK"):
        keep = colour == "original" and image.mode == "RGB"
        if not keep:
            image = _icc_to_srgb(image, icc)
            icc = None
    else:
        icc = None
    if image.mode != "RGB":
        image = image.convert("RGB")
    rgb = np.asarray(image)
    return Picture(rgb=rgb, alpha=alpha, icc=icc)


def _wide_grey_to_l(image: Image.Image) -> Image.Image:
    """16-bit and 32-bit greyscale to 8-bit by scaling, not clipping (clipping turns it white)."""
    arr = np.asarray(image)
    if arr.dtype.kind == "f":
        top = 1.0 if float(arr.max(initial=0)) <= 1.0 else 65535.0
    else:
        top = 65535.0 if int(arr.max(initial=0)) > 255 or image.mode.startswith("I;16") else 255.0
    scaled = np.clip(arr.astype(np.float32) * (255.0 / top) + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(scaled, mode="L")


def _icc_to_srgb(image: Image.Image, icc: bytes) -> Image.Image:
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        out = ImageCms.profileToProfile(image, src, srgb_profile(), outputMode="RGB")
        assert out is not None
        return out
    except (ImageCms.PyCMSError, OSError, ValueError) as e:
        log.warning("ignoring an unusable ICC profile (%s); treating the pixels as sRGB", e)
        return image.convert("RGB")
