"""render: the framed subject on its rendition's backdrop (or kept with alpha when
transparent), with the profile's shadow: the last step before encoding, run once per
rendition on the layers ``pipeline`` framed."""

from __future__ import annotations

import numpy as np

from studiocut import clock
from studiocut.imaging import composite, matte, shadow
from studiocut.models.registry import MaskModel
from studiocut.profiles import Profile


def render(before: np.ndarray, alpha: np.ndarray, model: MaskModel, profile: Profile, *,
           decontaminate: bool | None = None, light: np.ndarray | None = None) -> np.ndarray:
    """Put the framed subject on the profile's backdrop (or keep alpha when transparent),
    with the profile's shadow (``light``: the natural one, for ``shadow: keep``).
    Only the subject's edge band is blended (with decontamination learning the old
    backdrop's colour there); inside it the subject is copied, outside it the backdrop."""
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
    if profile.backdrop is None:
        return composite.over(before, alpha, None)
    rgb = before
    despill = getattr(model, "despill", None)  # keying models take the screen's cast off
    if despill is not None:
        rgb = despill(rgb, alpha)
    if decontaminate is None:
        decontaminate = profile.matting.decontaminate
    with clock.stage("decontamination"):
        band = matte.edge_band(alpha)  # only the edge is blended
        colours = None
        if band is not None and decontaminate:
            # no fringe of the old backdrop on the new one
            side = max(alpha.shape)
            colours = matte.foreground_colours(rgb, alpha, band,
                                               radius=max(2, round(0.01 * side / 4)))
    return composite.over(rgb, alpha, profile.backdrop,
                          band=np.empty(0, np.intp) if band is None else band, colours=colours)
