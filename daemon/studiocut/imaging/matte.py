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

from studiocut.profiles import Matting

log = logging.getLogger(__name__)

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (x1, y1 exclusive)


def upsample(mask: np.ndarray, frame: tuple[int, int], region: Box,
             size: tuple[int, int] | None = None) -> np.ndarray:
    """Given a mask covering the whole frame, return float32 alpha for ``region`` of a frame
    of ``frame`` (w, h) pixels, interpolated (cubic) with pixel centres aligned; ``size``
    (w, h) when the region is wanted at another size than its pixels'.

    OpenCV's cubic ``warpAffine`` has no vectorised path (15 ms for a 2000 px region), its
    separable ``resize`` has: the mask's part of the region is enlarged by ``resize`` first,
    by the whole part of the factor, leaving less than 2x to a linear warp (3 ms; within
    0.01 of the cubic warp's alpha for a 2000 px region from a 320 px mask)."""
    mh, mw = mask.shape
    fw, fh = frame
    x0, y0, x1, y1 = region
    size = size or (x1 - x0, y1 - y0)
    fx, fy = (x1 - x0) / size[0], (y1 - y0) / size[1]  # frame pixels per output pixel
    sx, sy = mw / fw, mh / fh  # mask pixels per frame pixel
    # the mask pixels the region covers, with room for the cubic kernel and the warp
    cx0, cy0 = max(0, math.floor(x0 * sx) - 3), max(0, math.floor(y0 * sy) - 3)
    cx1, cy1 = min(mw, math.ceil(x1 * sx) + 3), min(mh, math.ceil(y1 * sy) + 3)
    k = max(1, min(16, math.floor(min(1 / (fx * sx), 1 / (fy * sy)))))
    part: np.ndarray = mask[cy0:cy1, cx0:cx1].astype(np.float32)
    if k > 1:
        part = cv2.resize(part, ((cx1 - cx0) * k, (cy1 - cy0) * k),
                          interpolation=cv2.INTER_CUBIC)
    # output pixel X -> mask coordinate u = fx sx X + (x0 + fx / 2) sx - 1/2 (centres
    # aligned), and u -> (u - cx0 + 1/2) k - 1/2 in the enlarged part
    transform = np.array(
        [[k * fx * sx, 0.0, k * ((x0 + 0.5 * fx) * sx - cx0) - 0.5],
         [0.0, k * fy * sy, k * ((y0 + 0.5 * fy) * sy - cy0) - 0.5]],
        dtype=np.float64,
    )
    interpolation = cv2.INTER_LINEAR if k > 1 else cv2.INTER_CUBIC
    alpha = cv2.warpAffine(part, transform, size, flags=interpolation | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_REPLICATE)
    return np.clip(alpha, 0.0, 1.0, out=alpha)


def trimap(alpha: np.ndarray, radius: int, *, uncertain: tuple[float, float] | None = None,
           grow: int = 0) -> np.ndarray:
    """Return a trimap (1 foreground, 0 background, 0.5 unknown): the 0.5 contour of ``alpha``
    widened by ``radius`` pixels on each side, plus the pixels where ``alpha`` lies between the
    ``uncertain`` thresholds, widened by ``grow`` pixels."""
    inside = (alpha >= 0.5).astype(np.uint8)
    kernel = _disc(radius)
    sure_fg = cv2.erode(inside, kernel, borderType=cv2.BORDER_REPLICATE)
    sure_bg = cv2.erode(1 - inside, kernel, borderType=cv2.BORDER_REPLICATE)
    if uncertain is not None:
        unsure: np.ndarray = ((alpha > uncertain[0]) & (alpha < uncertain[1])).astype(np.uint8)
        if grow > 0:
            unsure = cv2.dilate(unsure, _disc(grow))
        sure_fg[unsure == 1] = 0
        sure_bg[unsure == 1] = 0
    result = np.full(alpha.shape, 0.5, dtype=np.float64)
    result[sure_fg == 1] = 1.0
    result[sure_bg == 1] = 0.0
    return result


def _disc(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


# Closed-form matting leaves a faint haze of near-0 and near-1 values in the band; stretching
# [CLIP, 1 - CLIP] to [0, 1] removes it (measured: band MAE 0.1558 -> 0.1548 on the eval set).
CLIP = 0.03


class MattingFailed(Exception):
    """Closed-form matting gave no answer for this photo (pymatting refused the trimap, or
    the solve failed): the caller keeps the model's mask and says so."""


def refine(alpha: np.ndarray, rgb: np.ndarray, matting: Matting) -> np.ndarray:
    """Return the final alpha for ``rgb`` (the region ``alpha`` shows, at its size or
    larger): ``alpha`` itself when matting is off, else alpha solved by closed-form matting
    in the trimap's unknown zone. Large images are solved at ``matting.max_pixels`` and the
    solution upsampled; outside the zone the trimap's 0 and 1 stand. Raise MattingFailed
    when the solve gives no answer."""
    if not matting.enabled:
        return alpha
    h, w = alpha.shape
    scale = min(1.0, math.sqrt(matting.max_pixels / float(h * w)))
    size = (w, h)
    small_alpha = alpha
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small_alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
    small_rgb = rgb  # resampled once, from the decoded pixels, to the size solved at
    if rgb.shape[1::-1] != size:
        small_rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    long_side = max(small_alpha.shape)
    tri = trimap(small_alpha, max(1, round(matting.band * long_side)),
                 uncertain=matting.uncertain, grow=round(matting.grow * long_side))
    unknown = tri == 0.5
    if not unknown.any() or unknown.all():
        return alpha
    solved: np.ndarray = np.clip((closed_form(small_rgb, tri) - CLIP) / (1 - 2 * CLIP), 0, 1)
    if scale < 1.0:
        # bilinear: a guided (edge-aware) upsampling scored worse on the eval set, at 1.3x
        # and at 3.5x (band MAE 0.1619 vs 0.1549, 0.1812 vs 0.1644)
        solved = cv2.resize(solved, (w, h), interpolation=cv2.INTER_LINEAR)
        band = cv2.resize(unknown.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
        band = cv2.dilate(band, _disc(max(1, round(1 / scale))))
        known = cv2.resize(tri.astype(np.float32), (w, h), interpolation=cv2.INTER_NEAREST)
        solved = np.where(band == 1, solved, known)
    return np.asarray(np.clip(solved, 0.0, 1.0), dtype=np.float32)


def closed_form(rgb: np.ndarray, trimap: np.ndarray) -> np.ndarray:
    """Closed-form matting (pymatting) of ``rgb`` (uint8) on ``trimap`` (0, 0.5, 1): float32
    alpha; raise MattingFailed where pymatting cannot solve (a trimap with no sure subject,
    a failed solve).

    Its conjugate gradients are preconditioned by an incomplete Cholesky factor that drops
    entries below 1e-3 rather than pymatting's 1e-4, with a diagonal shift of 1e-3 from the
    start (without it, one photo in eight is not positive definite enough: pymatting prints
    a warning and factors again): the factor is sparser and quicker to make, and the solve
    stops at the same tolerance, so alpha is the same to 1e-4 (the eval sets score the same)
    in a quarter less time (429 against 554 ms for a 500,000 px solve)."""
    from pymatting import estimate_alpha_cf

    image = rgb.astype(np.float64) / 255.0
    try:
        solved = estimate_alpha_cf(image, trimap, preconditioner=_preconditioner)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as e:
        # e.g. "Trimap did not contain foreground values": a trimap with no sure subject
        raise MattingFailed(str(e) or type(e).__name__) from e
    if not np.isfinite(solved).all():
        raise MattingFailed("the solve did not converge (non-finite alpha)")
    return np.asarray(solved, dtype=np.float32)


def _preconditioner(matrix: object) -> object:
    from pymatting import ichol

    return ichol(matrix, discard_threshold=1e-3, shifts=_SHIFTS)


_SHIFTS = [1e-3, 1e-2, 0.1, 0.5, 1.0, 10.0, 100, 1e3, 1e4, 1e5]  # pymatting's, from 1e-3


def foreground(rgb: np.ndarray, alpha: np.ndarray, *, radius: int = 0) -> np.ndarray:
    """Return ``rgb`` with the subject's own colour where alpha is between 0 and 1
    (``foreground_colours`` at the ``edge_band``), so that compositing it on a new backdrop
    leaves no fringe of the old one; elsewhere ``rgb`` is returned as it is."""
    band = edge_band(alpha)
    colours = None if band is None else foreground_colours(rgb, alpha, band, radius=radius)
    if band is None or colours is None:
        return rgb
    out = np.ascontiguousarray(rgb).copy()
    out.reshape(-1, 3)[band] = np.clip(colours + 0.5, 0, 255).astype(np.uint8)
    return out


def edge_band(alpha: np.ndarray) -> np.ndarray | None:
    """The flat indices of the pixels whose alpha is neither 0 nor 1 (within ``EDGE``), or
    None when there are none. OpenCV's vectorised scans find them in a tenth of the time of
    numpy's boolean masks (1 ms for 4 MP)."""
    found = cv2.findNonZero(cv2.inRange(alpha, EDGE, 1.0 - EDGE))
    if found is None:
        return None
    xs, ys = found.reshape(-1, 2).T.astype(np.intp)  # (x, y) pairs
    return np.asarray(ys * alpha.shape[1] + xs)


def foreground_colours(rgb: np.ndarray, alpha: np.ndarray, band: np.ndarray, *,
                       radius: int = 0) -> np.ndarray | None:
    """The subject's own colour (float32, one row per pixel) at the ``band`` pixels (flat
    indices, ``edge_band``), or None when no old backdrop is in sight (nothing to take out).
    A pixel is I = a F + (1 - a) B: B is estimated from nearby pure-background pixels and F
    from nearby pure-subject ones (normalised convolution, at a quarter of the size: these
    colours vary slowly), then F is solved from I and blended towards the estimate where a
    is too small for the division to be stable."""
    h, w = alpha.shape
    step = 4 if min(h, w) >= 64 else 1
    small_a = _quarter(alpha, step)
    sh, sw = small_a.shape
    backdrop, solid = small_a < 0.02, small_a > 0.98
    if not backdrop.any():
        return None
    small = _quarter(rgb, step)
    radius = radius or max(2, round(0.01 * max(h, w) / step))
    near = _near(band, w, step, (sh, sw))  # each band pixel's in ``small``
    image = np.take(rgb.reshape(-1, 3), band, axis=0).astype(np.float32)
    a = np.take(alpha.reshape(-1), band)[:, np.newaxis].astype(np.float32, copy=False)
    # in place, on one row per band pixel: F = (I - (1 - a) B) / a
    solved = _spread(small, backdrop, radius, near)
    solved *= 1.0 - a
    np.subtract(image, solved, out=solved)
    solved /= np.maximum(a, 1e-3)
    # below a = 0.5 lean on the nearby subject colour, if any of the subject is solid (a
    # thin chain or wire may have none: then the solved colour is all there is)
    if solid.any():
        subject = _spread(small, solid, radius, near)
        trust = np.minimum(a * 2.0, 1.0)
        solved *= trust
        subject *= 1.0 - trust
        solved += subject
    return np.clip(solved, 0.0, 255.0, out=solved)


def _near(band: np.ndarray, width: int, step: int, small: tuple[int, int]) -> np.ndarray:
    """The flat index in the ``step`` times smaller picture of ``small`` (h, w) of each
    ``band`` pixel (flat indices in a picture ``width`` wide), worked in 32-bit integers when
    every index fits one (half the memory traffic of numpy's 64-bit ones)."""
    sh, sw = small
    index = band.astype(np.int32) if band.size and int(band.max()) < 2**31 else band
    ys = index // width
    xs = index - ys * width
    ys //= step
    xs //= step
    np.minimum(ys, sh - 1, out=ys)  # the last rows and columns that make no whole block
    np.minimum(xs, sw - 1, out=xs)
    ys *= sw
    ys += xs
    return ys


EDGE = 0.004  # alpha within this of 0 or 1 is not the edge band


def _quarter(image: np.ndarray, step: int) -> np.ndarray:
    """``image`` averaged over ``step`` x ``step`` blocks (float32), by halvings (OpenCV's
    area averaging has a vectorised path for exact halves only: eight times faster than a
    quarter at once); the last rows and columns that make no whole block are left out."""
    h, w = image.shape[:2]
    image = image[: h // step * step, : w // step * step]
    while step > 1:
        image = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2),
                           interpolation=cv2.INTER_AREA)
        step //= 2
    return image.astype(np.float32)


def _spread(image: np.ndarray, where: np.ndarray, radius: int, at: np.ndarray) -> np.ndarray:
    """The average of ``image`` over nearby pixels ``where`` true (normalised convolution)
    at the pixels ``at`` (flat indices), widening until each of those has a neighbour; the
    global mean for any that has none even then."""
    weight = where.astype(np.float32)
    for r in (radius, radius * 4, radius * 16):
        size = (2 * r + 1, 2 * r + 1)
        den = np.take(cv2.blur(weight, size), at)
        if float(den.min()) > 1e-6:
            break
    weighted = image * weight[..., np.newaxis]
    spread: np.ndarray = np.take(cv2.blur(weighted, size).reshape(-1, 3), at, axis=0)
    np.divide(spread, np.maximum(den, 1e-6)[:, np.newaxis], out=spread)
    empty = den <= 1e-6
    if empty.any():
        spread[empty] = weighted.reshape(-1, 3).sum(axis=0) / max(float(weight.sum()), 1.0)
    return spread
