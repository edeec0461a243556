"""composite: put the cut-out on its new backdrop (Porter-Duff "over"), or keep alpha."""

from __future__ import annotations

import numpy as np

from studiocut.profile import Rgb


def over(rgb: np.ndarray, alpha: np.ndarray, backdrop: Rgb | None) -> np.ndarray:
    """Given H x W x 3 uint8 colour and H x W float alpha in [0, 1], return H x W x 3 uint8
    composited onto ``backdrop``, or H x W x 4 RGBA when ``backdrop`` is None."""
    if backdrop is None:
        a8 = np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.dstack([rgb, a8])
    a = alpha[..., np.newaxis].astype(np.float32)
    colour = np.asarray(backdrop, dtype=np.float32)
    out = rgb.astype(np.float32)
    out -= colour
    out *= a
    out += colour + 0.5
    return np.clip(out, 0, 255).astype(np.uint8)


def canvas(size: tuple[int, int], backdrop: Rgb | None) -> np.ndarray:
    """An empty (w, h) canvas of the backdrop colour, or fully transparent RGBA."""
    w, h = size
    if backdrop is None:
        return np.zeros((h, w, 4), dtype=np.uint8)
    out = np.empty((h, w, 3), dtype=np.uint8)
    out[:] = backdrop
    return out
