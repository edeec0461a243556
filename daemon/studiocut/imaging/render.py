"""render: the framed subject on its rendition's backdrop (or kept with alpha when
transparent), with the profile's shadow: the last step before encoding, run once per
rendition on the layers ``pipeline`` framed."""

from __future__ import annotations

import numpy as np

from studiocut.imaging import composite, frame, matte, shadow
from studiocut.models.registry import MaskModel
from studiocut.profiles import Profile


def render(before: np.ndarray, alpha: np.ndarray, model: MaskModel, profile: Profile, *,
           decontaminate: bool | None = None, light: np.ndarray | None = None) -> np.ndarray:
    """Put the framed subject on the profile's backdrop (or keep alpha when transparent),
    with the profile's shadow (``light``: the natural one, for ``shadow: keep``).
    Only the subject's box is blended, with a margin of old backdrop for decontamination to
    learn its colour from; the rest of the canvas is plain backdrop."""
    image = _render(before, alpha, model, profile, decontaminate)
    settings = profile.shadow
    if settings.mode == "contact":
        light = shadow.contact(alpha, settings)
    elif settings.mode != "keep":
        light = None
    if light is None or (profile.transparent and not settings.transparent):
        return image
    return shadow.lay(image, alpha, light, profile.backdrop, transparent=settings.transparent)


def _render(before: np.ndarray, alpha: np.ndarray, model: MaskModel, profile: Profile,
            decontaminate: bool | None) -> np.ndarray:
    height, width = alpha.shape
    image = composite.canvas((width, height), profile.backdrop)
    box = frame.subject_box(alpha, threshold=0.0)
    if box is None:
        return image
    side = max(width, height)
    pad = round(0.03 * side) + 8  # three times decontamination's reach
    x0, y0 = max(0, box[0] - pad), max(0, box[1] - pad)
    x1, y1 = min(width, box[2] + pad), min(height, box[3] + pad)
    rgb, alpha = before[y0:y1, x0:x1], alpha[y0:y1, x0:x1]
    despill = getattr(model, "despill", None)  # keying models take the screen's cast off
    if despill is not None:
        rgb = despill(rgb, alpha)
    if decontaminate is None:
        decontaminate = profile.matting.decontaminate
    if profile.backdrop is not None and decontaminate:
        # no fringe of the old backdrop on the new one; reach as on the whole canvas
        rgb = matte.foreground(rgb, alpha, radius=max(2, round(0.01 * side / 4)))
    image[y0:y1, x0:x1] = composite.over(rgb, alpha, profile.backdrop)
    return image
