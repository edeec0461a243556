"""composite: put the cut-out on its new backdrop (Porter-Duff "over"), or keep alpha."""

from __future__ import annotations

import cv2
import numpy as np

from studiocut.profile import Rgb


def over(rgb: np.ndarray, alpha: np.ndarray, backdrop: Rgb | None) -> np.ndarray:
    """Given H x W x 3 uint8 colour and H x W float alpha in [0, 1], return H x W x 3 uint8
    composited onto ``backdrop``, or H x W x 4 RGBA when ``backdrop`` is None."""
    if backdrop is None:
        a8 = cv2.convertScaleAbs(alpha, alpha=255.0)  # rounds and saturates to uint8
        return np.dstack([rgb, a8])
    weight = np.ascontiguousarray(alpha, dtype=np.float32)
    back = canvas((rgb.shape[1], rgb.shape[0]), backdrop)
    return cv2.blendLinear(rgb, back, weight, 1.0 - weight)


def canvas(size: tuple[int, int], backdrop: Rgb | None) -> np.ndarray:
    """An empty (w, h) canvas of the backdrop colour, or fully transparent RGBA."""
    w, h = size
    if backdrop is None:
        return np.zeros((h, w, 4), dtype=np.uint8)
    return np.full((h, w, 3), backdrop, dtype=np.uint8)
