"""surface: the studio backdrop as a smooth lit surface, and whether the photo has one.

A studio shoots on a backdrop it picked: a white sweep, grey paper, a green screen. Its light
falls off, vignettes, comes from one side, but it stays smooth: a low-order 2D polynomial per
channel, fitted robustly (RANSAC, then Tukey-reweighted least squares) to the pixels that are
surely backdrop and refined once the subject is known. ``decide`` fits it to the photo's border
and says whether the backdrop is plain (the studio path, ``imaging.studio``) or not (the model
alone). Ported from the issue 16 prototype; defaults were chosen on shared/eval/studio.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Params:
    """Every tunable of the studio path (defaults chosen on shared/eval/studio)."""

    fit_side: int = 200  # long side (px) of the copy the backdrop surface is fitted on
    degree: int = 3  # polynomial degree of the backdrop surface
    irls_steps: int = 6  # reweighting rounds of the robust fit
    ransac_tries: int = 150  # draws of the first (quadratic) fit
    ransac_sample: int = 24  # pixels per draw
    ransac_tolerance: float = 3.0  # residual (levels, small copy) of a consensus pixel
    tukey: float = 4.685  # Tukey biweight cut-off, in robust scales
    min_scale: float = 0.5  # floor of the fit's robust scale (levels, on the small copy)
    smooth: float = 2.0  # local std (levels, small copy) under which a pixel may seed the fit
    border: float = 0.03  # width of the border strip the decision looks at (of long side)
    on_surface: float = 1.5  # residual (levels, small copy) of a pixel on the surface
    plain_share: float = 0.35  # decision: least share of the border on the surface
    min_sigma: float = 1.0  # floor of the noise level (8-bit levels, full size)
    correction: float = 0.04  # reach of the surface's local correction (of long side)
    refine_steps: int = 1  # rounds of refitting the surface to the pixels found on it
    refit_ratio: float = 0.05  # light ratio off 1 still refitted to (if hue and texture fit)
    min_key_scale: float = 0.5  # floor of the key's noise units (hue, shade; in sigmas)
    bg_sigmas: float = 4.0  # key distance (key noise units) under which a pixel is backdrop
    fg_sigmas: float = 12.0  # key distance over which a pixel is surely subject
    erode: int = 3  # px the sure subject is eroded by
    solid_reach: int = 7  # px around a pixel whose largest key distance it is compared to
    solid_share: float = 0.7  # solid subject: at least this share of that largest distance
    model_inside: float = 0.015  # or this deep (of long side) inside the model's sure mask
    colour_reach: float = 0.015  # reach of the subject colour estimate (of long side)
    blend: float = 0.5  # weight of the projected alpha against closed-form in the unknown
    shadow_min: float = 0.5  # the darkest light ratio a shadow may have
    shadow_hue: float = 4.0  # hue distance (key units) under which darker is shadow
    shadow_texture: float = 3.0  # local std of shade (key units) under which it may be shadow
    model_sure: float = 0.9  # model mask over which the model is sure of the subject
    clip: float = 0.04  # closed-form alpha stretched from [clip, 1 - clip] to [0, 1]
    shadow_in_projection: bool = False
    shadow_smooth: float = 2.0  # px the shadow map is smoothed over
    spill: bool = True  # limit a coloured screen's channel at the subject's edge
    spill_reach: int = 3  # px from the partial-alpha edge that spill is taken off
    screen_chroma: float = 15.0  # Lab chroma over which the backdrop is a coloured screen


@dataclass(frozen=True)
class Decision:
    """Whether the studio path runs (``plain``), the statistic it was decided on (the share
    of the border's model-backdrop pixels that lie on one smooth surface), and why."""

    plain: bool
    statistic: float
    reason: str


@dataclass(frozen=True)
class Backdrop:
    """The lit backdrop: ``surface`` H x W x 3 float32 (8-bit levels), ``sigma`` the noise
    level per channel, ``coeffs`` the polynomial (terms x 3) on [-1, 1]^2 coordinates."""

    surface: np.ndarray
    sigma: np.ndarray
    coeffs: np.ndarray



def poly_basis(h: int, w: int, degree: int) -> np.ndarray:
    """The (h * w) x terms design matrix of all monomials x^i y^j, i + j <= degree, ordered
    by total degree (so the first ``n_terms(d)`` columns make the degree-d basis), with pixel
    centres mapped to [-1, 1] along each side."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    x = (x + 0.5) / w * 2.0 - 1.0
    y = (y + 0.5) / h * 2.0 - 1.0
    terms = [x**i * y**(d - i) for d in range(degree + 1) for i in range(d + 1)]
    return np.stack([t.ravel() for t in terms], axis=1)


def n_terms(degree: int) -> int:
    """How many monomials of total degree at most ``degree`` there are."""
    return (degree + 1) * (degree + 2) // 2


def weighted_lstsq(basis: np.ndarray, values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """argmin_C sum_i w_i |values_i - basis_i C|^2 through the normal equations (a few
    dozen terms: far cheaper than an SVD of the n x terms matrix), lightly regularised."""
    weighted = basis * weights[:, None]
    gram = weighted.T @ basis
    ridge = 1e-9 * np.trace(gram) / gram.shape[0]
    return np.asarray(np.linalg.solve(gram + ridge * np.eye(gram.shape[0]), weighted.T @ values))


def consensus(basis: np.ndarray, values: np.ndarray, *, degree: int, tries: int,
              sample: int, tolerance: float, seed: int = 0) -> np.ndarray:
    """RANSAC: the largest set of pixels within ``tolerance`` (residual length per channel)
    of one degree-``degree`` surface fitted to ``sample`` random pixels, over ``tries``
    draws (seeded: the same photo gives the same answer). Return its bool mask."""
    n = values.shape[0]
    cols = n_terms(degree)
    rng = np.random.default_rng(seed)
    best = np.ones(n, dtype=bool)
    best_count = -1
    for _ in range(tries):
        pick = rng.choice(n, size=min(sample, n), replace=False)
        coeffs = weighted_lstsq(basis[pick, :cols], values[pick], np.ones(pick.size))
        residual = np.linalg.norm(values - basis[:, :cols] @ coeffs, axis=1)
        inliers = residual < tolerance * np.sqrt(values.shape[1])
        count = int(inliers.sum())
        if count > best_count:
            best, best_count = inliers, count
    return best


def robust_fit(basis: np.ndarray, values: np.ndarray, start: np.ndarray, *, steps: int,
               tukey: float, min_scale: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Fit ``values`` (n x 3) as ``basis @ coeffs`` by iteratively reweighted least squares:
    least squares on the ``start`` pixels, then ``steps`` rounds weighing every pixel by
    Tukey's biweight of its residual length over the robust scale (1.4826 MAD of the
    pixels in use, at least ``min_scale``). Return (coeffs terms x 3, weights, scale)."""
    w = start.astype(np.float64)
    scale = min_scale
    coeffs = np.zeros((basis.shape[1], values.shape[1]))
    for _ in range(steps + 1):
        coeffs = weighted_lstsq(basis, values, w)
        residual = values - basis @ coeffs
        used = w > 0.5
        mad = 1.4826 * np.median(np.abs(residual[used] if used.any() else residual), axis=0)
        scale = max(float(np.sqrt(np.mean(mad**2))), min_scale)
        u = np.linalg.norm(residual, axis=1) / (tukey * scale * np.sqrt(values.shape[1]))
        w = np.where(u < 1.0, (1.0 - u**2) ** 2, 0.0)
        if (w > 0).sum() < basis.shape[1] * 4:
            break
    return coeffs, w, scale


def shrink(image: np.ndarray, side: int) -> np.ndarray:
    """An area-averaged copy whose long side is at most ``side``."""
    h, w = image.shape[:2]
    k = min(1.0, side / max(h, w))
    if k >= 1.0:
        return image
    return cv2.resize(image, (max(1, round(w * k)), max(1, round(h * k))),
                      interpolation=cv2.INTER_AREA)


def border_strip(h: int, w: int, width: int) -> np.ndarray:
    """A bool mask of the outer ``width`` pixels of an h x w frame."""
    strip = np.ones((h, w), dtype=bool)
    strip[width:h - width, width:w - width] = False
    return strip


def local_std(image: np.ndarray, size: int = 3) -> np.ndarray:
    """Per-pixel standard deviation over a size x size window, averaged over channels."""
    mean = cv2.blur(image, (size, size))
    var = cv2.blur(image * image, (size, size)) - mean * mean
    return np.asarray(np.sqrt(np.maximum(var, 0.0).reshape(*image.shape[:2], -1).mean(axis=2)))


def fit_surface(small: np.ndarray, seeds: np.ndarray, start: np.ndarray,
                params: Params) -> tuple[np.ndarray, float, np.ndarray]:
    """Fit the backdrop surface to ``small`` (h x w x 3 float32): RANSAC (``consensus``)
    over the ``start`` pixels for a first quadratic, a robust fit (``robust_fit``) of the
    full degree from its inliers, then the same again over every ``seeds`` pixel that lies
    on that surface (the backdrop seen anywhere in the frame). Return (coeffs, the robust
    scale, each pixel's residual length per channel, h x w)."""
    h, w = small.shape[:2]
    basis = poly_basis(h, w, params.degree)
    values = small.reshape(-1, 3).astype(np.float64)
    first = start.ravel()
    if first.sum() < basis.shape[1] * 4:
        first = seeds.ravel()
    inliers = consensus(basis[first], values[first], degree=2, tries=params.ransac_tries,
                        sample=params.ransac_sample, tolerance=params.ransac_tolerance)
    coeffs, _, scale = robust_fit(basis[first], values[first], inliers,
                                  steps=params.irls_steps, tukey=params.tukey,
                                  min_scale=params.min_scale)
    residual = np.linalg.norm(values - basis @ coeffs, axis=1) / np.sqrt(3.0)
    again = seeds.ravel() & (residual < max(3.0 * scale, params.on_surface))
    if again.sum() >= basis.shape[1] * 4:
        coeffs, _, scale = robust_fit(basis[again], values[again], np.ones(int(again.sum())),
                                      steps=params.irls_steps, tukey=params.tukey,
                                      min_scale=params.min_scale)
        residual = np.linalg.norm(values - basis @ coeffs, axis=1) / np.sqrt(3.0)
    return coeffs, scale, residual.reshape(h, w)


def decide(rgb: np.ndarray, mask: np.ndarray, params: Params) -> tuple[Decision, np.ndarray,
                                                                          np.ndarray]:
    """Whether the backdrop is plain. Fit the surface (``fit_surface``) on a small copy,
    starting from the smooth border pixels the model calls background; the statistic is the
    share of the whole border strip within ``on_surface`` levels of it. A studio backdrop
    shows wherever the subject does not cover the border; a natural background is smooth in
    places (sky) at best. Return (decision, the surface's coeffs, the small copy's residual)."""
    small = shrink(rgb, params.fit_side).astype(np.float32)
    small_mask = shrink(mask.astype(np.float32), params.fit_side)
    h, w = small_mask.shape
    strip = border_strip(h, w, max(2, round(params.border * max(h, w))))
    seeds = (local_std(small) < params.smooth) & (small_mask < 0.5)
    few = int(seeds.sum())
    if few < n_terms(params.degree) * 4:  # nothing smooth to fit: texture all over
        reason = (f"only {few} smooth background pixels in the frame ({seeds.mean():.0%}); "
                  "not a plain backdrop")
        return (Decision(False, 0.0, reason), np.zeros((n_terms(params.degree), 3)),
                np.full((h, w), np.inf, dtype=np.float32))
    try:
        coeffs, scale, residual = fit_surface(small, seeds, seeds & strip, params)
    except np.linalg.LinAlgError as e:  # a degenerate set of seeds: no surface to trust
        return (Decision(False, 0.0, f"no backdrop surface could be fitted ({e}); not a "
                         "plain backdrop"), np.zeros((n_terms(params.degree), 3)),
                np.full((h, w), np.inf, dtype=np.float32))
    share = float((residual[strip] < params.on_surface).mean())
    plain = share >= params.plain_share
    reason = (f"{share:.0%} of the border lies within {params.on_surface:g} levels of one "
              f"smooth surface (robust scale {scale:.2f}); "
              + ("plain backdrop" if plain else "not a plain backdrop")
              + f" (threshold {params.plain_share:.0%})")
    return Decision(plain, share, reason), coeffs, residual


def surface_at(coeffs: np.ndarray, h: int, w: int, degree: int) -> np.ndarray:
    """The polynomial surface at every pixel of an h x w frame (float32 x 3), evaluated
    separably: sum_ij c_ij x^i y^j = Y C X^T per channel."""
    x = (np.arange(w, dtype=np.float64) + 0.5) / w * 2.0 - 1.0
    y = (np.arange(h, dtype=np.float64) + 0.5) / h * 2.0 - 1.0
    powers_x = np.stack([x**i for i in range(degree + 1)], axis=1)  # w x (d + 1)
    powers_y = np.stack([y**j for j in range(degree + 1)], axis=1)  # h x (d + 1)
    surface = np.empty((h, w, 3), dtype=np.float32)
    grid = np.zeros((degree + 1, degree + 1, 3))  # [j, i, channel]
    k = 0
    for d in range(degree + 1):
        for i in range(d + 1):
            grid[d - i, i] = coeffs[k]
            k += 1
    for c in range(3):
        surface[..., c] = powers_y @ grid[..., c] @ powers_x.T
    return surface


def noise_level(rgb: np.ndarray, surface: np.ndarray, backdrop: np.ndarray,
                params: Params) -> np.ndarray:
    """The noise per channel: 1.4826 x the MAD of the residual from the surface over the
    ``backdrop`` pixels (bool, full size), at least ``min_sigma``."""
    if backdrop.sum() < 100:
        return np.full(3, 4.0 * params.min_sigma, dtype=np.float32)
    ys, xs = np.nonzero(backdrop)
    step = max(1, ys.size // 20000)
    ys, xs = ys[::step], xs[::step]
    residual = rgb[ys, xs].astype(np.float32) - surface[ys, xs]
    centred = residual - np.median(residual, axis=0)
    mad = 1.4826 * np.median(np.abs(centred), axis=0)
    return np.asarray(np.maximum(mad, params.min_sigma), dtype=np.float32)



def fit_backdrop(rgb: np.ndarray, coeffs: np.ndarray, residual: np.ndarray,
                 params: Params) -> Backdrop:
    """The lit backdrop at full size from the decision's fit (``coeffs``, ``residual`` on
    the small copy), and its noise level from the pixels on the surface."""
    h, w = rgb.shape[:2]
    surface = surface_at(coeffs, h, w, params.degree)
    on = cv2.erode((residual < params.on_surface).astype(np.uint8), np.ones((3, 3), np.uint8))
    on_full = cv2.resize(on, (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
    return Backdrop(surface, noise_level(rgb, surface, on_full, params), coeffs)


def spread(values: np.ndarray, weight: np.ndarray, radius: float,
           prior: float = 0.0) -> np.ndarray:
    """Normalised convolution: the Gaussian-weighted mean of ``values`` (h x w or h x w x c)
    over the pixels of ``weight`` (h x w in [0, 1]), with ``prior`` of weight pulling it to
    0 where few weighted pixels are near (an extrapolation fades out, not runs away)."""
    k = int(2 * round(3 * radius) + 1)
    weighted = values * (weight[..., None] if values.ndim == 3 else weight)
    num = cv2.GaussianBlur(weighted, (k, k), radius, borderType=cv2.BORDER_REFLECT)
    den = cv2.GaussianBlur(weight, (k, k), radius, borderType=cv2.BORDER_REFLECT)
    den = den[..., None] if num.ndim == 3 else den
    return np.asarray(num / (den + prior + 1e-6), dtype=np.float32)


def refine_backdrop(rgb: np.ndarray, backdrop: Backdrop, on_backdrop: np.ndarray,
                    params: Params) -> Backdrop:
    """Once the subject is known: the surface plus a smooth correction (the residual of the
    ``on_backdrop`` pixels, spread over ``correction`` of the long side on a coarse grid and
    fading to 0 away from them), and the noise level again from those pixels."""
    h, w = on_backdrop.shape
    weight = shrink(on_backdrop.astype(np.float32), params.fit_side)
    residual = (rgb.astype(np.float32) - backdrop.surface) * on_backdrop[..., None]
    small = shrink(residual, params.fit_side) / np.maximum(weight, 1e-6)[..., None]
    radius = params.correction * max(weight.shape)
    correction = spread(small, weight, radius, prior=0.02)
    surface = backdrop.surface + cv2.resize(correction, (w, h), interpolation=cv2.INTER_LINEAR)
    inner = cv2.erode(on_backdrop.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    return Backdrop(surface, noise_level(rgb, surface, inner, params), backdrop.coeffs)


