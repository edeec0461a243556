"""frame: where the subject goes in the output, and how many source pixels that needs.

Without ``square`` the output keeps the input's pixel size, so outputs align with inputs.
With ``square`` the subject's bounding box (from alpha) is scaled to fit N x N less the margin,
never upscaled beyond ``max_upscale``, and centred (or stood on a floor margin).

Framing is planned twice: ``locate`` works on the model's coarse mask before the full decode,
to decide which region to decode and at what scale; ``layout`` works on the final alpha of
that region to place the subject exactly. That alpha is worked at about the output's scale
(``Region.working_size``), not at the decoded photo's, which may have twice as many pixels a
side; ``fit`` then resamples the colour once, from the decoded pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from studiocut.errors import InputError
from studiocut.profiles import Square

Box = tuple[int, int, int, int]  # x0, y0, x1, y1; x1 and y1 exclusive
Size = tuple[int, int]

SUBJECT_THRESHOLD = 0.25  # alpha above this counts as subject when measuring its box


@dataclass(frozen=True)
class Region:
    """What to decode: ``scale`` of the full frame is enough; ``box`` (in full-frame pixels)
    holds the subject with room to spare."""

    box: Box
    scale: float

    def decode_size(self, full: Size) -> Size:
        return (max(1, math.ceil(full[0] * self.scale)), max(1, math.ceil(full[1] * self.scale)))

    def box_at(self, full: Size, actual: Size) -> Box:
        """The box in the pixels of a picture decoded at ``actual`` size."""
        kx, ky = actual[0] / full[0], actual[1] / full[1]
        x0, y0, x1, y1 = self.box
        return (
            max(0, math.floor(x0 * kx)), max(0, math.floor(y0 * ky)),
            min(actual[0], math.ceil(x1 * kx)), min(actual[1], math.ceil(y1 * ky)),
        )

    def working_size(self, full: Size, actual: Size, box: Box) -> Size:
        """The size to work out the alpha of ``box`` (in a picture decoded at ``actual``) at:
        the region's scale, which holds the output's with some to spare, and never above the
        decoded pixels."""
        k = min(1.0, self.scale * full[0] / actual[0])
        w, h = box[2] - box[0], box[3] - box[1]
        return (max(1, math.ceil(w * k)), max(1, math.ceil(h * k)))


@dataclass(frozen=True)
class Layout:
    """Where the subject goes: ``crop`` (in the working region's pixels) is resized to
    ``placed`` and pasted at ``offset`` on a ``canvas``-sized output."""

    crop: Box
    placed: Size
    canvas: Size
    offset: tuple[int, int]


def subject_box(alpha: np.ndarray, threshold: float = SUBJECT_THRESHOLD) -> Box | None:
    """Return the bounding box of alpha > threshold, or None when there is no subject."""
    inside = alpha > threshold
    rows = np.flatnonzero(inside.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(inside[rows[0] : rows[-1] + 1].any(axis=0))
    return (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def locate(mask: np.ndarray, full: Size, square: Square | None) -> Region:
    """Given the model's mask of the whole frame, return the region and scale to decode;
    raise InputError when framing needs a subject and the mask has none."""
    if square is None:
        return Region((0, 0, full[0], full[1]), 1.0)
    box = subject_box(mask)
    if box is None:
        raise InputError("no-subject", "the model found no subject to frame")
    mh, mw = mask.shape
    kx, ky = full[0] / mw, full[1] / mh
    pad = 2  # mask pixels of slack: the mask is coarse, the final alpha decides the exact box
    x0, y0 = max(0, box[0] - pad) * kx, max(0, box[1] - pad) * ky
    x1, y1 = min(mw, box[2] + pad) * kx, min(mh, box[3] + pad) * ky
    subject_w, subject_h = (box[2] - box[0]) * kx, (box[3] - box[1]) * ky
    fit_w, fit_h = _fit_area(square, square.size)
    scale = min(fit_w / subject_w, fit_h / subject_h, square.max_upscale)
    region_box = (math.floor(x0), math.floor(y0), math.ceil(x1), math.ceil(y1))
    return Region(region_box, min(1.0, scale * 1.1))


def layout(alpha: np.ndarray, square: Square | None, *, decoded: float = 1.0) -> Layout:
    """Given the final alpha of the working region, decoded at ``decoded`` of the source's
    size, return where the subject goes (``max_upscale`` counts source pixels); raise
    InputError when framing needs a subject and there is none."""
    h, w = alpha.shape
    if square is None:
        return Layout((0, 0, w, h), (w, h), (w, h), (0, 0))
    box = subject_box(alpha)
    if box is None:
        raise InputError("no-subject", "no subject left after matting to frame")
    bw, bh = box[2] - box[0], box[3] - box[1]
    fit_w, fit_h = _fit_area(square, square.size)
    scale = min(fit_w / bw, fit_h / bh)
    side = square.size
    max_upscale = square.max_upscale / decoded
    if scale > max_upscale:
        scale = max_upscale
        if square.min_size is not None:
            # the subject is small: shrink the canvas around it rather than add margin
            needed = max(
                _canvas_for(square, bw * scale, horizontal=True),
                _canvas_for(square, bh * scale, horizontal=False),
            )
            side = max(square.min_size, min(square.size, math.ceil(needed)))
    placed = (max(1, round(bw * scale)), max(1, round(bh * scale)))
    margin = square.margin_px(side)
    x = (side - placed[0]) // 2
    if square.placement == "bottom":
        y = round(side - square.floor_px(side) - placed[1])
        y = max(round(margin), y) if placed[1] + margin <= side else 0
    else:
        y = (side - placed[1]) // 2
    return Layout(box, placed, (side, side), (x, y))


def _fit_area(square: Square, side: int) -> tuple[float, float]:
    margin = square.margin_px(side)
    fit_w = side - 2 * margin
    if square.placement == "bottom":
        fit_h = side - margin - square.floor_px(side)
    else:
        fit_h = side - 2 * margin
    return (max(1.0, fit_w), max(1.0, fit_h))


def _canvas_for(square: Square, extent: float, *, horizontal: bool) -> float:
    """The smallest canvas side whose fit area holds ``extent`` pixels in one direction."""
    frac = square.margin / 1.0 if square.margin < 1 else square.margin / square.size
    floor = square.floor if square.floor < 1 else square.floor / square.size
    used = 2 * frac if horizontal or square.placement != "bottom" else frac + floor
    return extent / max(1e-6, 1.0 - used)


def fit(rgb: np.ndarray, alpha: np.ndarray, plan: Layout) -> tuple[np.ndarray, np.ndarray]:
    """Crop colour and alpha to the subject and resize both to the placed size. ``rgb`` shows
    the region ``alpha`` does, at the same or a higher resolution (``plan.crop`` counts alpha's
    pixels): the colour is resampled once, from its own pixels, and the alpha sampled where
    those output pixels fall, so that the two stay aligned to a fraction of a pixel."""
    x0, y0, x1, y1 = plan.crop
    ah, aw = alpha.shape
    if rgb.shape[:2] == alpha.shape:
        rgb, alpha = rgb[y0:y1, x0:x1], alpha[y0:y1, x0:x1]
        if (x1 - x0, y1 - y0) == plan.placed:
            return rgb, alpha
        method = cv2.INTER_AREA if plan.placed[0] < x1 - x0 else cv2.INTER_CUBIC
        rgb = cv2.resize(rgb, plan.placed, interpolation=method)
        alpha = np.clip(cv2.resize(alpha, plan.placed, interpolation=method), 0.0, 1.0)
        return rgb, alpha
    kx, ky = rgb.shape[1] / aw, rgb.shape[0] / ah
    cx0, cy0 = math.floor(x0 * kx), math.floor(y0 * ky)
    cx1, cy1 = min(rgb.shape[1], math.ceil(x1 * kx)), min(rgb.shape[0], math.ceil(y1 * ky))
    pw, ph = plan.placed
    method = cv2.INTER_AREA if pw < cx1 - cx0 else cv2.INTER_CUBIC
    colour = cv2.resize(rgb[cy0:cy1, cx0:cx1], plan.placed, interpolation=method)
    # alpha's pixels per output pixel: about 1.1 (the region's slack), so linear sampling
    # loses nothing; cubic when enlarging, as for the colour
    sx, sy = (cx1 - cx0) / (pw * kx), (cy1 - cy0) / (ph * ky)
    transform = np.array([[sx, 0.0, cx0 / kx + 0.5 * sx - 0.5],
                          [0.0, sy, cy0 / ky + 0.5 * sy - 0.5]], dtype=np.float64)
    interpolation = cv2.INTER_LINEAR if min(sx, sy) >= 1.0 else cv2.INTER_CUBIC
    alpha = cv2.warpAffine(alpha, transform, plan.placed,
                           flags=interpolation | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_REPLICATE)
    return colour, np.clip(alpha, 0.0, 1.0, out=alpha)


def place(image: np.ndarray, plan: Layout, canvas: np.ndarray) -> np.ndarray:
    """Paste ``image`` onto ``canvas`` at the layout's offset (clipped to the canvas)."""
    if image.shape[:2] == canvas.shape[:2] and plan.offset == (0, 0):
        return image
    x, y = plan.offset
    h, w = image.shape[:2]
    ch, cw = canvas.shape[:2]
    sx0, sy0 = max(0, -x), max(0, -y)
    dx0, dy0 = max(0, x), max(0, y)
    dx1, dy1 = min(cw, x + w), min(ch, y + h)
    canvas[dy0:dy1, dx0:dx1] = image[sy0 : sy0 + dy1 - dy0, sx0 : sx0 + dx1 - dx0]
    return canvas
