"""composite: put the cut-out on its new backdrop (Porter-Duff "over"), or keep alpha."""

from __future__ import annotations

import cv2
import numpy as np

from studiocut.profiles import Rgb


def over(rgb: np.ndarray, alpha: np.ndarray, backdrop: Rgb | None) -> np.ndarray:
    """Given H x W x 3 uint8 colour and H x W float alpha in [0, 1], return H x W x 3 uint8
    composited onto ``backdrop``, or H x W x 4 RGBA when ``backdrop`` is None."""
    if backdrop is None:
        a8 = cv2.convertScaleAbs(alpha, alpha=255.0)  # rounds and saturates to uint8
        return np.dstack([rgb, a8])
    out = np.empty_like(rgb)
    height, width = alpha.shape
    back = canvas((width, min(height, STRIP)), backdrop)
    # in strips: the float weights of a whole 2000 px canvas would be 32 MB more at the peak
    for y in range(0, height, STRIP):
        rows = slice(y, min(height, y + STRIP))
        weight = np.ascontiguousarray(alpha[rows], dtype=np.float32)
        n = weight.shape[0]
        out[rows] = cv2.blendLinear(rgb[rows], back[:n], weight, 1.0 - weight)
    return out


STRIP = 256  # rows blended at once


def canvas(size: tuple[int, int], backdrop: Rgb | None) -> np.ndarray:
    """An empty (w, h) canvas of the backdrop colour, or fully transparent RGBA."""
    w, h = size
    if backdrop is None:
        return np.zeros((h, w, 4), dtype=np.uint8)
    return np.full((h, w, 3), backdrop, dtype=np.uint8)
