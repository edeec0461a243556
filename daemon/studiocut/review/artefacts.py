"""artefacts: the immutable files behind each revision of a result, in the state folder.

The review page never shows the live output file (a reader holding it open would block the
atomic replace on Windows). Each revision gets a folder of its own, written under a temporary
name and renamed into place, holding:

- ``result.<ext>``: the exact bytes that are (or would be) published;
- ``before.jpg``: the original's pixels framed exactly like the result (same canvas); written
  at once only for results likely to be looked at (flagged, held, or whose original is to be
  deleted), otherwise framed again from the original the first time it is asked for;
- ``alpha.png``: the alpha on that canvas (8-bit);
- ``thumb.png``: a small RGBA cut-out for the review cards.

The other views (cut-out, mask, red overlay, crops, smaller sizes) are made from these on
request and cached beside them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from studiocut import atomic
from studiocut.imaging import matte
from studiocut.journal import Revision

THUMB_SIDE = 320
KINDS = ("thumb", "cutout", "mask", "overlay", "before", "result")
RENDITION = "rendition-"  # a media kind: rendition-<name>, one of a photo's renditions whole
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
                 "webp": "image/webp", "tif": "image/tiff", "tiff": "image/tiff"}
MAX_CROP_PIXELS = 16_000_000
# Alpha compresses as well without PNG's row filters and five times faster (4 ms for 4 MP):
# these files are written for every photo, so they must stay hidden behind inference.
FAST_PNG = [cv2.IMWRITE_PNG_COMPRESSION, 1]
if hasattr(cv2, "IMWRITE_PNG_FILTER"):
    FAST_PNG += [cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE]
BEFORE_JPEG = [cv2.IMWRITE_JPEG_QUALITY, 92]


@dataclass(frozen=True)
class View:
    """How to cut a media request down: ``crop`` (x, y, w, h in canvas pixels), ``longest``
    (the longest side at most this many pixels)."""

    crop: tuple[int, int, int, int] | None = None
    longest: int | None = None

    @property
    def whole(self) -> bool:
        return self.crop is None and self.longest is None


class Store:
    """The artefact folders, under ``<state>/review``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, job_id: int, before: np.ndarray, alpha: np.ndarray, result: bytes,
              ext: str, *, with_before: bool = True, published: Path | None = None,
              renditions: Sequence[tuple[str, bytes, Path | None]] = ()) -> str:
        """Write a revision's artefacts (``before.jpg`` only ``with_before``); return its
        folder name (relative to the store). ``published`` is the output file just written
        with ``result``: the artefact becomes a hard link to it, which costs no space and
        keeps these bytes when a later revision replaces the output (a new file). The other
        ``renditions`` of a photo (file name, bytes, output just written or None) are kept
        beside it, published together with it."""
        folder = f"{job_id}/{secrets.token_hex(6)}"
        final = self.root / folder
        temp = final.with_name(final.name + atomic.TEMP_SUFFIX)
        temp.mkdir(parents=True)
        try:
            _keep_result(temp / f"result.{ext}", result, published)
            for name, data, output in renditions:
                _keep_result(temp / name, data, output)
            if with_before:
                _imwrite(temp / "before.jpg", before[..., ::-1], BEFORE_JPEG)  # OpenCV: BGR
            a8 = cv2.convertScaleAbs(alpha, alpha=255.0)
            _imwrite(temp / "alpha.png", a8, FAST_PNG)
            _imwrite(temp / "thumb.png", _thumb(before, a8), FAST_PNG)
            os.replace(temp, final)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        return folder

    def folder(self, revision: Revision) -> Path:
        return self.root / revision.folder

    def has_before(self, revision: Revision) -> bool:
        return (self.folder(revision) / "before.jpg").is_file()

    def add_before(self, revision: Revision, before: np.ndarray) -> None:
        """Add the framed original to a revision written without it."""
        atomic.write_atomic(self.folder(revision) / "before.jpg",
                            _imencode("jpg", before[..., ::-1], BEFORE_JPEG))

    def result(self, revision: Revision) -> bytes:
        return (self.folder(revision) / f"result.{revision.ext}").read_bytes()

    def rendition(self, revision: Revision, name: str) -> bytes:
        """The bytes of one of the revision's renditions (the first is its result)."""
        for index, rendition in enumerate(renditions_of(revision)):
            if rendition["name"] == name:
                if index == 0:
                    return self.result(revision)
                return (self.folder(revision) / str(rendition["file"])).read_bytes()
        raise ValueError(f"revision {revision.number} has no rendition {name!r}")

    def alpha(self, revision: Revision) -> np.ndarray:
        """The revision's alpha (float32 in [0, 1]); stored even when ``before.jpg`` is not."""
        alpha = _read(self.folder(revision) / "alpha.png", cv2.IMREAD_GRAYSCALE)
        return alpha.astype(np.float32) / 255.0

    def layers(self, revision: Revision) -> tuple[np.ndarray, np.ndarray]:
        """The revision's framed original (RGB uint8) and alpha (float32 in [0, 1])."""
        before = _read(self.folder(revision) / "before.jpg", cv2.IMREAD_COLOR)
        return before[..., ::-1].copy(), self.alpha(revision)

    def media(self, revision: Revision, kind: str, view: View) -> tuple[bytes, str]:
        """The bytes and content type of one view of a revision; raise FileNotFoundError when
        its artefacts are gone, ValueError for a bad kind or crop."""
        if kind.startswith(RENDITION):
            name = kind[len(RENDITION):]
            ext = next((r["ext"] for r in renditions_of(revision) if r["name"] == name), "")
            data = self.rendition(revision, name)
            if view.whole:
                return data, CONTENT_TYPES.get(ext, "image/png")
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
            if image is None:
                raise ValueError(f"cannot make a smaller view of a .{ext} rendition")
            return _imencode("png", _apply(image, view), FAST_PNG), "image/png"
        if kind not in KINDS:
            raise ValueError(f"unknown media kind {kind!r} (known: {', '.join(KINDS)})")
        folder = self.folder(revision)
        if kind == "result" and view.whole:
            return self.result(revision), CONTENT_TYPES.get(revision.ext, "image/png")
        if kind == "thumb" and view.whole:
            return (folder / "thumb.png").read_bytes(), "image/png"
        image, ext = self._full(revision, kind)
        image = _apply(image, view)
        params = [cv2.IMWRITE_JPEG_QUALITY, 90] if ext == "jpg" else FAST_PNG
        return _imencode(ext, image, params), CONTENT_TYPES[ext]

    def _full(self, revision: Revision, kind: str) -> tuple[np.ndarray, str]:
        """A full-size view as an OpenCV image (BGR, BGRA or grey) and the format to send."""
        folder = self.folder(revision)
        if kind == "result":
            data = np.frombuffer(self.result(revision), np.uint8)
            image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
            if image is None:
                raise ValueError(f"cannot crop a .{revision.ext} result")
            return image, "png"
        if kind == "thumb":
            return _read(folder / "thumb.png", cv2.IMREAD_UNCHANGED), "png"
        if kind == "mask":
            return _read(folder / "alpha.png", cv2.IMREAD_GRAYSCALE), "png"
        if kind == "before":
            return _read(folder / "before.jpg", cv2.IMREAD_COLOR), "jpg"
        cached = folder / ("cutout.png" if kind == "cutout" else "overlay.jpg")
        if not cached.exists():
            before, alpha = self.layers(revision)
            if kind == "cutout":
                rgb = matte.foreground(before, alpha)
                made = np.dstack([rgb[..., ::-1], cv2.convertScaleAbs(alpha, alpha=255.0)])
                params = FAST_PNG
            else:
                made = overlay(before, alpha)[..., ::-1]
                params = [cv2.IMWRITE_JPEG_QUALITY, 90]
            _write_cached(cached, made, params)
        image = _read(cached, cv2.IMREAD_UNCHANGED)
        return image, "png" if kind == "cutout" else "jpg"

    def remove(self, folders: set[str]) -> None:
        for folder in folders:
            shutil.rmtree(self.root / folder, ignore_errors=True)

    def remove_unknown(self, known: set[str], *, older_than: float) -> int:
        """Delete artefact folders no revision refers to (left by a crash or discarded) that
        were last changed before ``older_than`` (a worker may be writing or recording a new
        one right now); return how many."""
        count = 0
        if not self.root.is_dir():
            return 0
        for job_folder in self.root.iterdir():
            if not job_folder.is_dir():
                continue
            for folder in job_folder.iterdir():
                name = f"{job_folder.name}/{folder.name}"
                try:
                    young = folder.stat().st_mtime >= older_than
                except FileNotFoundError:
                    continue
                if folder.is_dir() and name not in known and not young:
                    shutil.rmtree(folder, ignore_errors=True)
                    count += 1
            with contextlib.suppress(OSError):
                job_folder.rmdir()  # only when empty
        return count


def renditions_of(revision: Revision) -> list[dict[str, Any]]:
    """The renditions a revision holds, in the profile's order (``name``, ``ext``, ``file``
    in its folder, ``output`` name and, where recorded, the canvas ``size`` [w, h]); empty
    for a photo of one rendition."""
    found = revision.params.get("renditions")
    return found if isinstance(found, list) else []


def _keep_result(path: Path, result: bytes, published: Path | None) -> None:
    if published is not None:
        try:
            if published.stat().st_size == len(result):
                os.link(published, path)
                return
        except OSError:  # another filesystem, or no hard links there: copy
            pass
    path.write_bytes(result)


def overlay(before: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The original with what was removed tinted red: what a person checks for lost parts."""
    red = np.empty_like(before)
    red[...] = (230, 30, 40)
    weight = (0.55 * (1.0 - alpha)).astype(np.float32)
    return cv2.blendLinear(red, before, weight, 1.0 - weight)


def parse_view(crop: str | None, longest: str | None, size: tuple[int, int]) -> View:
    """Read ``crop=x,y,w,h`` and ``max=N`` query values; raise ValueError naming the fault."""
    box = None
    if crop:
        try:
            x, y, w, h = (int(float(v)) for v in crop.split(","))
        except (ValueError, OverflowError):
            raise ValueError("crop must be x,y,w,h in pixels") from None
        width, height = size
        x1, y1 = min(x + w, width), min(y + h, height)  # clipped to the canvas
        x, y = max(0, x), max(0, y)
        w, h = x1 - x, y1 - y
        if w < 1 or h < 1 or w * h > MAX_CROP_PIXELS:
            raise ValueError("crop is outside the image, empty or too large")
        box = (x, y, w, h)
    side = None
    if longest:
        try:
            side = int(longest)
        except ValueError:
            raise ValueError("max must be a whole number of pixels") from None
        if not 16 <= side <= 20000:
            raise ValueError("max must be between 16 and 20000")
    return View(box, side)


def _apply(image: np.ndarray, view: View) -> np.ndarray:
    if view.crop is not None:
        x, y, w, h = view.crop
        image = image[y : y + h, x : x + w]
    if view.longest is not None:
        h, w = image.shape[:2]
        k = view.longest / max(w, h)
        if k < 1:
            size = (max(1, round(w * k)), max(1, round(h * k)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return image


def _thumb(before: np.ndarray, a8: np.ndarray) -> np.ndarray:
    h, w = a8.shape
    k = min(1.0, THUMB_SIDE / max(w, h))
    size = (max(1, round(w * k)), max(1, round(h * k)))
    rgba = np.dstack([before[..., ::-1], a8])
    if k < 0.25:  # two area steps: the same average, a third of the time
        rgba = cv2.resize(rgba, (size[0] * 2, size[1] * 2), interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.resize(rgba, size, interpolation=cv2.INTER_AREA))


def _read(path: Path, flags: int) -> np.ndarray:
    image = cv2.imread(os.fspath(path), flags)
    if image is None:
        raise FileNotFoundError(f"artefact {path} is missing or unreadable")
    return np.asarray(image)


def _imwrite(path: Path, image: np.ndarray, params: list[int]) -> None:
    path.write_bytes(_imencode(path.suffix.lstrip("."), image, params))


def _imencode(ext: str, image: np.ndarray, params: list[int]) -> bytes:
    ok, buffer = cv2.imencode("." + ext, image, params)
    if not ok:
        raise ValueError(f"cannot encode a {ext} view")
    return buffer.tobytes()


def _write_cached(path: Path, image: np.ndarray, params: list[int]) -> None:
    """Cache a made view atomically: two requests at once must never read half a file."""
    atomic.write_atomic(path, _imencode(path.suffix.lstrip("."), image, params))
