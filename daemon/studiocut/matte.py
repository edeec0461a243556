"""matte: from the model's low-resolution mask to alpha at the working resolution.

``upsample`` maps the mask onto any region of the frame; ``refine`` either keeps that
segmentation alpha (``matting: false``) or solves soft alpha in a band around the edge
with closed-form matting (``matting: true``).
"""

from __future__ import annotations

import logging
import math

import cv2
import numpy as np

from studiocut.profile import Matting

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (x1, y1 exclusive)


def upsample(mask: np.ndarray, frame: tuple[int, int], region: Box) -> np.ndarray:
    """Given a mask covering the whole frame, return float32 alpha for ``region`` of a frame
    of ``frame`` (w, h) pixels, interpolated with pixel centres aligned."""
    mh, mw = mask.shape
    fw, fh = frame
    x0, y0, x1, y1 = region
    sx, sy = mw / fw, mh / fh
    transform = np.array(
        [[sx, 0.0, (x0 + 0.5) * sx - 0.5], [0.0, sy, (y0 + 0.5) * sy - 0.5]], dtype=np.float64
    )
    alpha = cv2.warpAffine(
        mask.astype(np.float32), transform, (x1 - x0, y1 - y0),
        flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE,
    )
    return np.clip(alpha, 0.0, 1.0, out=alpha)


def trimap(alpha: np.ndarray, radius: int) -> np.ndarray:
    """Return a trimap (1 foreground, 0 background, 0.5 unknown): the 0.5 contour of ``alpha``
    widened by ``radius`` pixels on each side."""
    inside = (alpha >= 0.5).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    sure_fg = cv2.erode(inside, kernel, borderType=cv2.BORDER_REPLICATE)
    sure_bg = cv2.erode(1 - inside, kernel, borderType=cv2.BORDER_REPLICATE)
    result = np.full(alpha.shape, 0.5, dtype=np.float64)
    result[sure_fg == 1] = 1.0
    result[sure_bg == 1] = 0.0
    return result


def refine(alpha: np.ndarray, rgb: np.ndarray, matting: Matting) -> np.ndarray:
    """Return the final alpha for ``rgb``: ``alpha`` itself when matting is off, else alpha
    solved by closed-form matting inside the unknown band (at most ``matting.max_pixels``
    pixels are solved; larger images are solved smaller and the band upsampled)."""
    if not matting.enabled:
        return alpha
    h, w = alpha.shape
    scale = min(1.0, math.sqrt(matting.max_pixels / float(h * w)))
    small_rgb, small_alpha = rgb, alpha
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small_rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        small_alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
    radius = max(1, round(matting.band * max(small_alpha.shape)))
    tri = trimap(small_alpha, radius)
    unknown = tri == 0.5
    if not unknown.any() or unknown.all():
        return alpha
    solved = _closed_form(small_rgb, tri)
    if scale < 1.0:
        solved = cv2.resize(solved, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.asarray(np.clip(solved, 0.0, 1.0), dtype=np.float32)


def _closed_form(rgb: np.ndarray, tri: np.ndarray) -> np.ndarray:
    from pymatting import estimate_alpha_cf

    image = rgb.astype(np.float64) / 255.0
    solved = estimate_alpha_cf(image, tri)
    return np.asarray(solved, dtype=np.float32)
