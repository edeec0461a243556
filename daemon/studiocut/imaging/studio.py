"""studio: the studio path, a cut-out that knows the backdrop (issue 16).

Where the photo's border shows a plain backdrop (``surface.decide``), the backdrop is fitted as
a smooth surface, every pixel keyed against it (``keying``), and the key fused with the
saliency model's mask per pixel by the key's confidence: the key where it is sure (its edges),
the model where it is unsure (subject colours near the backdrop). Closed-form matting then
solves the fused trimap (the fused soft alpha where it fails).

    result = cut(rgb, mask)   # rgb: H x W x 3 uint8, mask: H x W float in [0, 1]
    result.alpha, result.shadow, result.foreground, result.decision
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from studiocut.imaging.keying import (
    Key,
    despill,
    disc,
    key_distance,
    key_scales,
    measure_key,
    on_backdrop,
    shadow_map,
)
from studiocut.imaging.matte import MattingFailed
from studiocut.imaging.matte import closed_form as solve_closed_form
from studiocut.imaging.surface import (
    Backdrop,
    Decision,
    Params,
    decide,
    fit_backdrop,
    refine_backdrop,
    shrink,
    spread,
)


@dataclass(frozen=True)
class Result:
    """What ``cut`` returns: ``alpha`` H x W float32 in [0, 1]; ``shadow`` H x W float32,
    the backdrop's light kept at each pixel (1: unshaded; composite a shadow as
    ``new_backdrop * shadow``); ``foreground`` H x W x 3 uint8 with the screen's spill taken
    off (the input where nothing changed); ``decision``."""

    alpha: np.ndarray
    shadow: np.ndarray
    foreground: np.ndarray
    decision: Decision
    backdrop: Backdrop | None = None
    key: Key | None = None
    matting_failed: str | None = None  # why closed-form matting gave no answer



def subject_colour(rgb: np.ndarray, distance: np.ndarray, model: np.ndarray,
                   params: Params) -> tuple[np.ndarray, np.ndarray]:
    """Where the subject is solid and what colour it is nearby.

    Solid: beyond ``fg_sigmas`` from the backdrop and at least ``solid_share`` of the
    largest distance within ``solid_reach`` px (a strand of hair, an edge pixel, is a
    mixture with the backdrop: nearer to it than the solid colour beside it), or deep inside
    the model's sure mask (``model_inside`` of the long side: a body of several colours);
    then eroded by ``erode`` px. The colour: the solid pixels' mean over ``colour_reach`` of
    the long side (normalised convolution on a half-size grid; far from any solid pixel,
    the mean of all of them). Return (solid bool, colour H x W x 3 float32)."""
    near_max = cv2.dilate(distance, disc(params.solid_reach))
    inside = np.zeros(distance.shape, dtype=bool)
    if params.model_inside > 0:
        sure = (model >= params.model_sure).astype(np.uint8)
        depth = max(1, round(params.model_inside * max(distance.shape)))
        inside = cv2.erode(sure, disc(depth), borderType=cv2.BORDER_REPLICATE) == 1
    seeds = ((distance >= params.fg_sigmas)
             & ((distance >= params.solid_share * near_max) | inside)).astype(np.uint8)
    solid = cv2.erode(seeds, disc(params.erode), borderType=cv2.BORDER_REPLICATE)
    weight = shrink(solid.astype(np.float32), params.fit_side * 2)
    small = shrink(rgb.astype(np.float32) * solid[..., None], params.fit_side * 2)
    small = small / np.maximum(weight, 1e-6)[..., None]
    radius = params.colour_reach * max(weight.shape)
    colour = spread(small, weight, radius)
    k = int(2 * round(3 * radius) + 1)
    near = cv2.GaussianBlur(weight, (k, k), radius)
    if solid.any():
        overall = rgb[solid == 1].astype(np.float32).mean(axis=0)
        colour = np.where((near > 1e-3)[..., None], colour, overall)
    h, w = distance.shape
    colour = cv2.resize(colour, (w, h), interpolation=cv2.INTER_LINEAR)
    return solid == 1, colour


def projected_alpha(rgb: np.ndarray, backdrop: np.ndarray, subject: np.ndarray) -> np.ndarray:
    """Alpha from a known backdrop B and subject colour F: I = a F + (1 - a) B solved for a
    by projecting I - B onto F - B (least squares), clipped to [0, 1]."""
    d = subject - backdrop
    a = np.einsum("hwc,hwc->hw", rgb.astype(np.float32) - backdrop, d) / np.maximum(
        np.einsum("hwc,hwc->hw", d, d), 1.0)
    return np.asarray(np.clip(a, 0.0, 1.0), dtype=np.float32)


def fuse_trimap(distance: np.ndarray, solid: np.ndarray, model: np.ndarray,
                params: Params) -> np.ndarray:
    """The trimap (0 backdrop, 0.5 unknown, 1 subject): backdrop where the key is within
    ``bg_sigmas`` of the backdrop, subject where it is ``solid`` (the key's distance, or
    the model where it is sure), unknown elsewhere."""
    trimap = np.full(distance.shape, 0.5, dtype=np.float64)
    trimap[distance < params.bg_sigmas] = 0.0
    trimap[solid] = 1.0
    return trimap



def closed_form(rgb: np.ndarray, trimap: np.ndarray) -> np.ndarray:
    """Closed-form matting (pymatting) of ``rgb`` on ``trimap``; raise MattingFailed where
    pymatting cannot solve (no foreground or no background in the trimap, a failed solve)."""
    if not (trimap == 1.0).any() or not (trimap == 0.0).any():
        raise MattingFailed("the fused trimap has no sure subject or no sure backdrop")
    return solve_closed_form(rgb, trimap)


def solve_alpha(rgb: np.ndarray, trimap: np.ndarray, fallback: np.ndarray,
                params: Params) -> tuple[np.ndarray, str | None]:
    """Alpha from closed-form matting on ``trimap`` (the known pixels keep the trimap's 0 or
    1), and None; where matting fails, ``fallback`` (the fused soft alpha) and why."""
    unknown = trimap == 0.5
    if not unknown.any():
        return trimap.astype(np.float32), None
    try:
        solved = closed_form(rgb, trimap)
    except MattingFailed as e:
        return np.where(unknown, fallback, trimap).astype(np.float32), str(e)
    clip = params.clip
    solved = np.clip((solved - clip) / (1.0 - 2.0 * clip), 0.0, 1.0)
    return np.where(unknown, solved, trimap).astype(np.float32), None


def cut(rgb: np.ndarray, mask: np.ndarray, params: Params | None = None) -> Result:
    """Cut the subject of ``rgb`` (H x W x 3 uint8) off a plain studio backdrop, with the
    saliency model's ``mask`` (H x W in [0, 1]) where the key is unsure. Where the decision
    says the backdrop is not plain the mask comes back unchanged (``decision.plain`` False:
    the caller's model path, e.g. u2netp + matting, applies) with no shadow."""
    params = params or Params()
    h, w = rgb.shape[:2]
    mask = np.asarray(mask, dtype=np.float32)
    decision, coeffs, residual = decide(rgb, mask, params)
    if not decision.plain:
        return Result(mask, np.ones((h, w), np.float32), rgb, decision)
    backdrop = fit_backdrop(rgb, coeffs, residual, params)
    key = measure_key(rgb, backdrop.surface, backdrop.sigma)
    on = cv2.resize((residual < params.on_surface).astype(np.uint8), (w, h),
                    interpolation=cv2.INTER_NEAREST).astype(bool)
    scales = key_scales(key, on, params)
    for _ in range(params.refine_steps):
        loose = on_backdrop(key, scales, params)
        backdrop = refine_backdrop(rgb, backdrop, loose, params)
        key = measure_key(rgb, backdrop.surface, backdrop.sigma)
        scales = key_scales(key, loose, params)
    distance, shadowish = key_distance(key, scales, mask, params)
    solid, colour = subject_colour(rgb, distance, mask, params)
    lit = backdrop.surface
    if params.shadow_in_projection:
        sure_backdrop = np.where(distance < params.bg_sigmas, 0.0, 1.0)
        first_light = shadow_map(key, shadowish, sure_backdrop, params)
        lit = backdrop.surface * first_light[..., None]
    projected = projected_alpha(rgb, lit, colour)
    trimap = fuse_trimap(distance, solid, mask, params)
    alpha, failed = solve_alpha(rgb, trimap, projected, params)
    if params.blend > 0:
        unknown = trimap == 0.5
        alpha = np.where(unknown, (1 - params.blend) * alpha + params.blend * projected, alpha)
    shadow = shadow_map(key, shadowish, alpha, params)
    foreground = despill(rgb, alpha, backdrop.surface, params)
    return Result(alpha, shadow, foreground, decision, backdrop, key, failed)


MAX_PIXELS = 1_000_000  # the studio path's working size; larger regions are cut smaller


def cut_at_most(rgb: np.ndarray, mask: np.ndarray, max_pixels: int = MAX_PIXELS) -> Result:
    """``cut`` on at most ``max_pixels`` pixels (the closed-form solve grows with the area;
    the surface and the key need no more), the alpha and the shadow map brought back to
    ``rgb``'s size by linear interpolation and the foreground as ``rgb`` plus the change the
    cut made (so the unchanged pixels keep their full detail)."""
    h, w = rgb.shape[:2]
    k = (max_pixels / float(h * w)) ** 0.5
    if k >= 1.0:
        return cut(rgb, mask)
    size = (max(1, round(w * k)), max(1, round(h * k)))
    small = cut(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA),
                cv2.resize(mask, size, interpolation=cv2.INTER_AREA))
    if not small.decision.plain:
        return Result(mask, np.ones((h, w), np.float32), rgb, small.decision)

    def grown(image: np.ndarray) -> np.ndarray:
        return np.asarray(cv2.resize(image, (w, h), interpolation=cv2.INTER_LINEAR))

    change = cv2.subtract(small.foreground, cv2.resize(rgb, size, interpolation=cv2.INTER_AREA),
                          dtype=cv2.CV_16S)
    foreground = rgb
    if change.any():
        foreground = np.asarray(np.clip(rgb.astype(np.int16) + grown(change), 0, 255),
                                dtype=np.uint8)
    return Result(np.clip(grown(small.alpha), 0.0, 1.0), grown(small.shadow), foreground,
                  small.decision, matting_failed=small.matting_failed)
