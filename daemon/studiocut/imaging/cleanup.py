"""cleanup: the alpha made tidy as the profile's ``cleanup`` rules say: specks dropped with
their faint surround, pinholes filled with their soft rim, only the largest subject or those
big enough kept.

Most masks are one part with no hole to fill, known from their traced borders without
labelling a pixel. A few specks are found from their borders too (``_drops_traced``): only
the boxes of the parts that need it are labelled, and each speck's surround in a window.
Masks too speckled to trace cheaply, and rules that need every part's area, label the whole
frame (``_drops_labelled``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from studiocut.profiles import Cleanup


def clean(alpha: np.ndarray, rules: Cleanup) -> np.ndarray:
    """Drop specks and fill pinholes of ``alpha`` as ``rules`` say (sizes are fractions of
    the subject's area); keep only the largest subject, or subjects big enough."""
    if rules.min_island <= 0 and rules.max_hole <= 0 and rules.keep == "all" and (
            rules.min_subject <= 0):
        return alpha
    # thresholds by OpenCV's vectorised scans (1 ms for 4 MP against numpy's 5)
    inside = cv2.inRange(alpha, _ABOVE_HALF, 2.0)
    traced = _trace(inside)
    if traced is not None and len(traced.boxes) <= 1 and (
            rules.max_hole <= 0 or traced.holes == 0):
        return alpha  # no subject, or one and no holes to fill: nothing to drop or fill
    total = float(cv2.countNonZero(inside))
    if traced is None or rules.keep == "largest" or rules.min_subject > 0:
        gone = _drops_labelled(alpha, inside, rules, total)  # every part's area counts
    else:
        gone = _drops_traced(alpha, inside, traced, rules.min_island * total, total)
    result = alpha
    if gone is not None:
        result = alpha.astype(np.float32)  # a copy: the caller's alpha stays as it was
        result[gone] = 0.0
    if rules.max_hole > 0:
        holes = cv2.inRange(result, -1.0, 0.5)
        n, hole_labels, hole_stats, _ = cv2.connectedComponentsWithStats(holes, connectivity=4)
        h, w = alpha.shape
        fill = np.zeros(n, dtype=bool)
        for i in range(1, n):
            x, y, bw, bh, area = hole_stats[i]
            enclosed = x > 0 and y > 0 and x + bw < w and y + bh < h
            fill[i] = enclosed and area < rules.max_hole * total
        if fill.any():
            filled = fill[hole_labels]
            # with their soft rim, when the whole dip is small and enclosed by solid subject
            filled |= _own_surround(result < 0.996, filled, (holes > 0) & ~filled,
                                    max_area=rules.max_hole * total)
            if result is alpha:
                result = alpha.astype(np.float32)
            result[filled] = 1.0
    return result


_ABOVE_HALF = float(np.nextafter(np.float32(0.5), np.float32(1)))  # inRange is inclusive
FAINT = 0.004  # alpha above this around a dropped speck is its soft fringe
_AROUND = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))  # 2 px around a dropped part


def _drops_labelled(alpha: np.ndarray, inside: np.ndarray, rules: Cleanup,
                    total: float) -> np.ndarray | None:
    """The pixels to clear (dropped parts, their dilation and their own faint surround) of
    ``inside`` (``total`` pixels), found by labelling every pixel (OpenCV's labelling takes
    4 ms for 4 MP, its statistics 18 more: the areas come by bincount); None when nothing is
    dropped."""
    count, labels = cv2.connectedComponents(inside, connectivity=8)
    areas = np.bincount(labels.ravel(), minlength=count)[1:].astype(np.float64)
    largest = float(areas.max())
    drop = np.zeros(count, dtype=bool)
    drop[1:] |= areas < rules.min_island * total
    drop[1:] |= areas < rules.min_subject * largest
    if rules.keep == "largest":
        drop[1:] |= np.arange(1, count) != 1 + int(np.argmax(areas))
    if not drop.any():
        return None
    dropped = drop[labels]
    gone = cv2.dilate(dropped.view(np.uint8), _AROUND).view(bool)
    # with their soft fringe: all of a speck's faint surround, however wide the upsampling
    # made it, unless that surround also holds a subject that stays
    gone |= _own_surround(alpha > FAINT, dropped, (labels > 0) & ~dropped)
    return gone


def _drops_traced(alpha: np.ndarray, inside: np.ndarray, traced: _Traced, min_area: float,
                  total: float) -> np.ndarray | None:
    """As ``_drops_labelled`` for parts of fewer than ``min_area`` pixels (of ``total`` in
    ``inside``), from the parts' traced borders: a part whose box holds fewer pixels is
    dropped unlabelled, one whose area cannot be less (the mask's pixels less every other
    box) is kept, and only the parts between, and the dropped ones, are labelled, each in its
    own box; a surround in a window around its speck. A photo's clean-up with specks takes
    a few ms, not 12-37 (4 MP)."""
    if min_area <= 0:
        return None  # every part has a pixel at least
    box_areas = np.array([w * h for _, _, w, h in traced.boxes], dtype=np.float64)
    most = np.minimum(box_areas, total - (box_areas.size - 1))  # every other part: a pixel
    least = total - (box_areas.sum() - box_areas)  # the other parts fill their boxes at most
    drop = most < min_area
    labelled: dict[int, np.ndarray] = {}
    for i in np.flatnonzero(~drop & (least < min_area)).tolist():
        labelled[i] = _part(inside, traced, i)
        drop[i] = np.count_nonzero(labelled[i]) < min_area
    if not drop.any():
        return None
    dropped = np.zeros(inside.shape, dtype=bool)
    for i in np.flatnonzero(drop).tolist():
        x, y, w, h = traced.boxes[i]
        part = labelled[i] if i in labelled else _part(inside, traced, i)
        dropped[y : y + h, x : x + w] |= part
    gone = cv2.dilate(dropped.view(np.uint8), _AROUND).view(bool)
    surround = np.zeros(inside.shape, dtype=bool)  # the dropped specks' own faint surrounds
    shared = np.zeros(inside.shape, dtype=bool)  # surrounds found to hold a part that stays
    for i in np.flatnonzero(drop).tolist():
        _find_surround(surround, shared, alpha, inside, dropped, traced.boxes[i],
                       traced.seeds[i])
    gone |= surround
    return gone


def _part(mask: np.ndarray, traced: _Traced, i: int) -> np.ndarray:
    """The pixels of the ``i``th traced part of ``mask``, within its box: labelled there
    alone (every pixel of the part is inside the box, and only those of it are joined to its
    seed)."""
    x, y, w, h = traced.boxes[i]
    sx, sy = traced.seeds[i]
    _, labels = cv2.connectedComponents(mask[y : y + h, x : x + w], connectivity=8)
    return np.asarray(labels == labels[sy - y, sx - x])


def _find_surround(surround: np.ndarray, shared: np.ndarray, alpha: np.ndarray,
                   inside: np.ndarray, dropped: np.ndarray, box: tuple[int, int, int, int],
                   pixel: tuple[int, int]) -> None:
    """Find the faint surround (alpha above FAINT, joined to it) of the dropped part at
    ``box`` (``pixel`` one of its own): add it to ``surround`` when it holds no pixel of a
    part that stays, else what was seen of it to ``shared``. It is labelled in a window
    around the part whose margin grows four times each time the surround reaches the
    window's edge without holding such a pixel: a surround wholly inside a window is wholly
    found there, and a pixel that stays found in a window is in the whole surround too. The
    last window is the whole frame. A part already in either mask is not looked at again
    (a haze may hold a thousand specks)."""
    px, py = pixel
    if surround[py, px] or shared[py, px]:
        return
    height, width = alpha.shape
    x, y, w, h = box
    margin = 16
    while True:
        x0, y0 = max(0, x - margin), max(0, y - margin)
        x1, y1 = min(width, x + w + margin), min(height, y + h + margin)
        region = alpha[y0:y1, x0:x1] > FAINT
        _, labels = cv2.connectedComponents(region.view(np.uint8), connectivity=8)
        mine = labels == labels[py - y0, px - x0]
        stays = (inside[y0:y1, x0:x1] > 0) & ~dropped[y0:y1, x0:x1]
        if (mine & stays).any():
            shared[y0:y1, x0:x1] |= mine
            return
        if not ((x0 > 0 and mine[:, 0].any()) or (y0 > 0 and mine[0].any())
                or (x1 < width and mine[:, -1].any()) or (y1 < height and mine[-1].any())):
            surround[y0:y1, x0:x1] |= mine
            return
        margin *= 4


@dataclass(frozen=True)
class _Traced:
    """A mask's parts (8-connected) as their traced borders give them: each part's bounding
    box (x, y, w, h) and ``seeds``, one pixel (x, y) of each; and how many ``holes``
    (4-connected, not touching the frame's edge) it has."""

    boxes: list[tuple[int, int, int, int]]
    seeds: list[tuple[int, int]]
    holes: int


def _trace(mask: np.ndarray) -> _Traced | None:
    """The parts and holes of ``mask`` from its outer and inner borders, traced in 0.5 ms for
    4 MP where labelling every pixel takes 5 ms and 16 MB of fresh labels (the common case,
    one subject, needs no labels at all). None when the borders are too long to trace
    cheaply: tracing costs by the border pixel (a 4 MP mask of noise takes seconds),
    labelling by the pixel."""
    h, w = mask.shape
    changes = cv2.countNonZero(cv2.compare(mask[:, 1:], mask[:, :-1], cv2.CMP_NE))
    changes += cv2.countNonZero(cv2.compare(mask[1:], mask[:-1], cv2.CMP_NE))
    if changes > _TRACEABLE * (h + w):
        return None
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return _Traced([], [], 0)
    # no parent: a part's own border (its points are pixels of the part)
    outer = [c for c, link in zip(contours, hierarchy[0], strict=True) if link[3] < 0]
    boxes = [tuple(int(v) for v in cv2.boundingRect(c)) for c in outer]
    seeds = [(int(c[0, 0, 0]), int(c[0, 0, 1])) for c in outer]
    return _Traced(boxes, seeds, len(contours) - len(outer))  # type: ignore[arg-type]


# Pixels of border a mask may have, per pixel of its height and width, to be traced: a product's
# outline changes about twice a row and twice a column (the benchmark's: 0.8-1.2 times h + w);
# at four times that, tracing takes 3 ms for 4 MP, about what labelling does.
_TRACEABLE = 4


def _own_surround(region: np.ndarray, seeds: np.ndarray, others: np.ndarray, *,
                  max_area: float = math.inf) -> np.ndarray:
    """The connected parts of ``region`` smaller than ``max_area`` pixels that hold a
    ``seeds`` pixel and no ``others`` one (both lie inside ``region``). Labelled without
    OpenCV's statistics (four times the labelling's time): the areas, when a limit needs
    them, by bincount."""
    n, labels = cv2.connectedComponents(region.view(np.uint8), connectivity=8)
    own = np.bincount(labels[seeds], minlength=n) > 0
    own &= np.bincount(labels[others], minlength=n) == 0
    if max_area < math.inf:
        own &= np.bincount(labels.ravel(), minlength=n) < max_area
    own[0] = False  # outside the region
    return np.asarray(own[labels])
