"""shadow: the shadow under the subject on its new backdrop (the profile's ``shadow:``).

A shadow is a light map on the output canvas: 1 where the backdrop keeps its light, less
where it is shaded; it multiplies the new backdrop, never the subject. ``keep`` carries the
natural shadow the studio path measured (``studio.Result.shadow``) onto the canvas with the
subject, cut to the frame; ``contact`` draws a soft one under the subject's footprint.
"""

from __future__ import annotations

import cv2
import numpy as np

from studiocut.imaging.frame import Layout
from studiocut.profiles import Rgb, Shadow


def onto_canvas(light: np.ndarray, plan: Layout) -> np.ndarray:
    """The working region's light map where the layout puts the region on the canvas: the
    subject's crop scaled to its placed size and offset, the rest of the region with it, and
    1 (no shadow) where the region does not reach."""
    x0, y0, x1, y1 = plan.crop
    kx, ky = plan.placed[0] / max(1, x1 - x0), plan.placed[1] / max(1, y1 - y0)
    ox, oy = plan.offset
    matrix = np.array([[kx, 0, ox - x0 * kx], [0, ky, oy - y0 * ky]], dtype=np.float32)
    return np.asarray(cv2.warpAffine(light.astype(np.float32), matrix, plan.canvas,
                          flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=1.0), dtype=np.float32)


def contact(alpha: np.ndarray, settings: Shadow) -> np.ndarray:
    """A soft shadow under the subject's footprint: the subject's lowest tenth (alpha over
    0.5), flattened to a thin band at its base, moved ``offset`` of the subject's height
    down, blurred over ``blur`` of it, and ``opacity`` dark at its darkest."""
    inside = alpha >= 0.5
    rows = np.flatnonzero(inside.any(axis=1))
    light = np.ones(alpha.shape, dtype=np.float32)
    if rows.size == 0 or settings.opacity <= 0:
        return light
    top, bottom = int(rows[0]), int(rows[-1])
    height = bottom - top + 1
    cols = np.flatnonzero(inside[max(top, bottom - height // 10): bottom + 1].any(axis=0))
    base = np.zeros(alpha.shape, dtype=np.float32)
    thick = max(1, round(0.02 * height))
    y = min(alpha.shape[0] - 1, bottom + round(settings.offset * height))
    y0, y1 = max(0, y - thick), min(alpha.shape[0], y + thick + 1)
    if y0 < y1 and cols.size:
        base[y0:y1, cols[0]: cols[-1] + 1] = 1.0
    sigma = max(0.5, settings.blur * height)
    k = int(2 * round(3 * sigma) + 1)
    soft = cv2.GaussianBlur(base, (k, k), sigma)
    peak = float(soft.max())
    if peak <= 0:
        return light
    return np.asarray(1.0 - settings.opacity * soft / peak, dtype=np.float32)


def lay(image: np.ndarray, alpha: np.ndarray, light: np.ndarray, backdrop: Rgb | None,
        *, transparent: bool = False) -> np.ndarray:
    """Lay ``light`` (canvas-sized) on the backdrop of the composited ``image``: the backdrop
    B behind each pixel becomes B x light, the subject keeps its colour
    (a F + (1 - a) B -> a F + (1 - a) B light). A transparent output gets the shadow only
    with ``transparent``: black of alpha 1 - light under the subject."""
    dark = (1.0 - alpha) * (1.0 - np.clip(light, 0.0, 1.0))
    if backdrop is None:
        if not transparent:
            return image
        a = alpha + dark
        out = image.copy()
        rgb = image[..., :3].astype(np.float32) * (alpha / np.maximum(a, 1e-6))[..., None]
        out[..., :3] = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
        out[..., 3] = np.clip(a * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return out
    taken = dark[..., None] * np.asarray(backdrop, dtype=np.float32)
    return np.asarray(np.clip(image.astype(np.float32) - taken + 0.5, 0, 255), dtype=np.uint8)
