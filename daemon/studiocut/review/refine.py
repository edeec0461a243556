"""refine: a person's corrections to a cut-out, applied to its alpha on the output canvas.

Keep and remove points and a box re-run a segmenter: Segment Anything when one is installed
(its image embedding is computed once per photo and cached), otherwise OpenCV's GrabCut seeded
with the current alpha. Brush strokes set alpha outright; edge controls shift, feather, matte
and decontaminate the edge. Coordinates are canvas pixels of the full-resolution result.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import cv2
import numpy as np

from studiocut.imaging import matte
from studiocut.models.sam import SamEmbedding, SamModel
from studiocut.profiles import Matting

log = logging.getLogger(__name__)

MAX_MARKS = 500  # points, stroke points and strokes each; a page sends far fewer
GRABCUT_SIDE = 640  # GrabCut runs on the subject's region shrunk to this longest side
GRABCUT_ITERATIONS = 3


@dataclass(frozen=True)
class Stroke:
    keep: bool
    radius: float
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Edit:
    """One refine request: what the person marked and how the edge should be treated."""

    points: tuple[tuple[float, float, int], ...] = ()  # x, y, 1 keep | 0 remove
    box: tuple[float, float, float, float] | None = None
    strokes: tuple[Stroke, ...] = ()
    shift: int = 0  # px: positive grows the subject, negative shrinks it
    feather: float = 0.0  # px of blur on the edge
    matting: bool = False
    decontaminate: bool | None = None  # None: as the profile says
    params: dict[str, Any] = field(default_factory=dict)  # the request as given, for the record

    @property
    def prompts(self) -> bool:
        return bool(self.points) or self.box is not None


class BadEdit(ValueError):
    """A refine request that does not make sense, with the reason."""


def parse(body: object, size: tuple[int, int]) -> Edit:
    """Validate a refine request against a canvas of ``size`` (w, h); raise BadEdit."""
    if not isinstance(body, dict):
        raise BadEdit("the request must be a JSON object")
    w, h = size
    points = tuple(_point(p, w, h) for p in _list(body.get("points"), "points"))
    box = None
    if body.get("box") is not None:
        raw = _list(body["box"], "box")
        if len(raw) != 4:
            raise BadEdit("box must be [x0, y0, x1, y1]")
        x0, y0, x1, y1 = (_number(v, "box") for v in raw)
        x0, x1 = sorted((min(max(x0, 0), w), min(max(x1, 0), w)))
        y0, y1 = sorted((min(max(y0, 0), h), min(max(y1, 0), h)))
        if x1 - x0 < 2 or y1 - y0 < 2:
            raise BadEdit("box is empty")
        box = (x0, y0, x1, y1)
    strokes = []
    for raw_stroke in _list(body.get("strokes"), "strokes"):
        if not isinstance(raw_stroke, dict) or raw_stroke.get("mode") not in ("keep", "remove"):
            raise BadEdit("each stroke needs mode keep or remove")
        radius = _number(raw_stroke.get("radius", 10), "stroke radius")
        if not 0.5 <= radius <= max(w, h):
            raise BadEdit(f"stroke radius must be between 0.5 and {max(w, h)} px")
        trail = tuple((_number(x, "stroke"), _number(y, "stroke"))
                      for x, y in (_pair(p) for p in _list(raw_stroke.get("points"), "stroke")))
        if trail:
            strokes.append(Stroke(raw_stroke["mode"] == "keep", radius, trail))
    edge = body.get("edge")
    edge = {} if edge is None else edge
    if not isinstance(edge, dict):
        raise BadEdit("edge must be an object")
    shift = int(_number(edge.get("shift", 0), "edge.shift"))
    feather = _number(edge.get("feather", 0), "edge.feather")
    if not -50 <= shift <= 50 or not 0 <= feather <= 50:
        raise BadEdit("edge.shift must be within -50..50 px and edge.feather within 0..50 px")
    decontaminate = edge.get("decontaminate")
    if sum(len(s.points) for s in strokes) + len(points) + len(strokes) > 3 * MAX_MARKS:
        raise BadEdit("too many marks in one refine")
    return Edit(points, box, tuple(strokes), shift, feather, bool(edge.get("matting", False)),
                None if decontaminate is None else bool(decontaminate), params=dict(body))


def _list(value: object, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_MARKS:
        raise BadEdit(f"{what} must be a list of at most {MAX_MARKS} items")
    return value


def _number(value: object, what: str) -> float:
    number = math.nan
    if not isinstance(value, bool) and isinstance(value, (int, float)):
        with contextlib.suppress(OverflowError):  # an int beyond float's range
            number = float(value)
    if not math.isfinite(number):  # also NaN and Infinity, which json.loads accepts
        raise BadEdit(f"{what}: expected a number, got {value!r}")
    return number


def _pair(value: object) -> tuple[object, object]:
    if not isinstance(value, list) or len(value) != 2:
        raise BadEdit("stroke points must be [x, y] pairs")
    return value[0], value[1]


def _point(value: object, w: int, h: int) -> tuple[float, float, int]:
    label = value.get("label") if isinstance(value, dict) else None
    if not isinstance(value, dict) or isinstance(label, bool) or label not in (0, 1):
        raise BadEdit("each point needs x, y and label 1 (keep) or 0 (remove)")
    x, y = _number(value.get("x"), "point x"), _number(value.get("y"), "point y")
    if not (0 <= x < w and 0 <= y < h):
        raise BadEdit(f"point ({x:g}, {y:g}) is outside the {w} x {h} image")
    return (x, y, int(value["label"]))


# --------------------------------------------------------------------------- segmenters


class SamSegmenter:
    """Segment Anything on the canvas, one cached embedding per photo (the encoder is the
    slow half; each click only runs the decoder)."""

    def __init__(self, model: SamModel, cache_size: int = 4) -> None:
        self.model = model
        self.name = model.name
        self._cache: OrderedDict[Hashable, SamEmbedding] = OrderedDict()
        self._lock = threading.Lock()
        self._cache_size = cache_size

    def embedding(self, key: Hashable, before: np.ndarray) -> SamEmbedding:
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        found = self.model.embed(before)
        with self._lock:
            self._cache[key] = found
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return found

    def cached(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._cache

    def __call__(self, key: Hashable, before: np.ndarray, alpha: np.ndarray,
                 edit: Edit) -> np.ndarray:
        coords = [(x, y) for x, y, _ in edit.points]
        labels = [label for _, _, label in edit.points]
        if edit.box is not None:
            coords += [(edit.box[0], edit.box[1]), (edit.box[2], edit.box[3])]
            labels += [2, 3]
        mask = self.model.segment(self.embedding(key, before),
                                  np.asarray(coords, dtype=np.float32),
                                  np.asarray(labels, dtype=np.float32))
        h, w = alpha.shape
        return np.clip(cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR), 0.0, 1.0)


class GrabCutSegmenter:
    """OpenCV's GrabCut seeded with the current alpha: keep and remove points become sure
    foreground and background, the box bounds the subject. It runs only on the region around
    the subject and the marks (the rest of the canvas is plain backdrop), shrunk to at most
    GRABCUT_SIDE pixels."""

    name = "grabcut"

    def __call__(self, key: Hashable, before: np.ndarray, alpha: np.ndarray,
                 edit: Edit) -> np.ndarray:
        x0, y0, x1, y1 = _region(alpha, edit)
        result = alpha.copy()
        if edit.box is not None:
            result[...] = 0.0  # nothing outside the box is the subject
        points = tuple((x - x0, y - y0, label) for x, y, label in edit.points)
        box = None
        if edit.box is not None:
            bx0, by0, bx1, by1 = edit.box
            box = (bx0 - x0, by0 - y0, bx1 - x0, by1 - y0)
        local = Edit(points=points, box=box)
        result[y0:y1, x0:x1] = _grabcut(before[y0:y1, x0:x1], alpha[y0:y1, x0:x1], local)
        return result


def _region(alpha: np.ndarray, edit: Edit) -> tuple[int, int, int, int]:
    """The part of the canvas GrabCut needs: the box, or the subject and the marks, with room
    around them for its background model; the whole canvas when there is no subject yet
    (a keep point alone does not say how large the subject is)."""
    h, w = alpha.shape
    xs: list[float] = [x for x, _, _ in edit.points]
    ys: list[float] = [y for _, y, _ in edit.points]
    if edit.box is not None:
        xs += [edit.box[0], edit.box[2]]
        ys += [edit.box[1], edit.box[3]]
    else:
        rows = np.flatnonzero((alpha > 0.5).any(axis=1))
        cols = np.flatnonzero((alpha > 0.5).any(axis=0))
        if rows.size == 0:
            return (0, 0, w, h)
        xs += [float(cols[0]), float(cols[-1] + 1)]
        ys += [float(rows[0]), float(rows[-1] + 1)]
    pad = 0.15 * max(max(xs) - min(xs), max(ys) - min(ys)) + 16
    return (max(0, int(min(xs) - pad)), max(0, int(min(ys) - pad)),
            min(w, int(max(xs) + pad) + 1), min(h, int(max(ys) + pad) + 1))


def _grabcut(before: np.ndarray, alpha: np.ndarray, edit: Edit) -> np.ndarray:
    h, w = alpha.shape
    k = min(1.0, GRABCUT_SIDE / max(w, h))
    sw, sh = max(1, round(w * k)), max(1, round(h * k))
    small = cv2.resize(before, (sw, sh), interpolation=cv2.INTER_AREA)
    small_alpha = cv2.resize(alpha, (sw, sh), interpolation=cv2.INTER_AREA)
    seeds = np.where(small_alpha > 0.5, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    if edit.box is not None:
        x0, y0, x1, y1 = (round(v * k) for v in edit.box)
        outside = np.ones_like(seeds, dtype=bool)
        outside[y0:y1, x0:x1] = False
        seeds[outside] = cv2.GC_BGD
        if not (small_alpha[y0:y1, x0:x1] > 0.5).any():
            seeds[y0:y1, x0:x1] = cv2.GC_PR_FGD  # an empty box: the subject is in it
    radius = max(3, round(0.012 * max(sw, sh)))
    for x, y, label in edit.points:
        cv2.circle(seeds, (round(x * k), round(y * k)), radius,
                   int(cv2.GC_FGD if label else cv2.GC_BGD), -1)
    foreground_seeds = (seeds == cv2.GC_FGD) | (seeds == cv2.GC_PR_FGD)
    if not foreground_seeds.any():
        return np.zeros_like(alpha)
    if foreground_seeds.all():  # no background to learn from: nothing to separate
        return alpha
    background = np.zeros((1, 65), np.float64)
    foreground = np.zeros((1, 65), np.float64)
    cv2.grabCut(np.ascontiguousarray(small[..., ::-1]), seeds, None,  # type: ignore[call-overload]
                background, foreground, GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_MASK)
    hard = ((seeds == cv2.GC_FGD) | (seeds == cv2.GC_PR_FGD)).astype(np.float32)
    hard = cv2.resize(hard, (w, h), interpolation=cv2.INTER_LINEAR)
    # keep the soft edge where GrabCut agrees with the old alpha; take its answer elsewhere
    agrees = (hard > 0.5) == (alpha > 0.5)
    return np.where(agrees, alpha, hard).astype(np.float32)


Segmenter: TypeAlias = SamSegmenter | GrabCutSegmenter


# --------------------------------------------------------------------------- applying


def apply(key: Hashable, before: np.ndarray, alpha: np.ndarray, edit: Edit,
          segmenter: Segmenter) -> np.ndarray:
    """Return ``alpha`` with ``edit`` applied: prompts, then strokes, then edge controls."""
    result = alpha.astype(np.float32, copy=True)
    if edit.prompts:
        result = segmenter(key, before, result, edit)
    for stroke in edit.strokes:
        paint(result, stroke)
    if edit.shift:
        size = 2 * abs(edit.shift) + 1
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        morph = cv2.dilate if edit.shift > 0 else cv2.erode
        result = np.asarray(morph(result, disc), dtype=np.float32)
    if edit.matting:
        try:
            result = matte.refine(result, before, Matting(enabled=True))
        except matte.MattingFailed as e:
            raise BadEdit(f"alpha matting gave no answer for this cut-out ({e}); try it "
                          "without matting") from e
    if edit.feather > 0:
        result = np.asarray(cv2.GaussianBlur(result, (0, 0), sigmaX=edit.feather / 2),
                            dtype=np.float32)
    return np.clip(result, 0.0, 1.0)


def paint(alpha: np.ndarray, stroke: Stroke) -> None:
    """Set alpha to 1 (keep) or 0 (remove) under ``stroke``, in place."""
    under = np.zeros(alpha.shape, dtype=np.uint8)
    points = np.round(np.asarray(stroke.points)).astype(np.int32)
    thickness = max(1, round(2 * stroke.radius))
    if len(points) == 1:
        cv2.circle(under, tuple(int(v) for v in points[0]), round(stroke.radius), 1, -1)
    else:
        cv2.polylines(under, [points.reshape(-1, 1, 2)], False, 1, thickness, cv2.LINE_AA)
    alpha[under > 0] = 1.0 if stroke.keep else 0.0
