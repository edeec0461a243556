"""keying: each pixel against the fitted backdrop (``imaging.surface``), shadows and spill.

The key measures a pixel against the lit backdrop in noise-whitened RGB, split into shade
(the light along the backdrop's colour) and hue (a colour the backdrop's light cannot make);
a pixel of the backdrop's hue with less light is shadow, not subject. On a coloured screen
the screen's cast is taken off the subject's edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from studiocut.imaging.surface import Params, local_std, spread


@dataclass(frozen=True)
class Key:
    """Each pixel against the backdrop: ``ratio`` observed / backdrop light (luminance),
    ``hue`` the chromaticity distance in noise sigmas, ``shade`` the light difference in
    noise sigmas (negative: darker than the backdrop)."""

    ratio: np.ndarray
    hue: np.ndarray
    shade: np.ndarray




def measure_key(rgb: np.ndarray, surface: np.ndarray, sigma: np.ndarray) -> Key:
    """Each pixel I against the backdrop B, in noise-whitened RGB (divided by ``sigma``):
    I = s B + e with e orthogonal to B. ``ratio`` is s (the light kept: 1 backdrop, < 1
    shade), ``hue`` is |e| (a colour the backdrop's light cannot make, in sigmas), ``shade``
    is (s - 1) |B| (the light difference along the backdrop's colour, in sigmas)."""
    image = rgb.astype(np.float32) / sigma
    back = np.maximum(surface, 1.0) / sigma
    norm2 = np.einsum("hwc,hwc->hw", back, back)
    ratio = np.einsum("hwc,hwc->hw", image, back) / norm2
    hue = np.linalg.norm(image - ratio[..., None] * back, axis=2)
    shade = (ratio - 1.0) * np.sqrt(norm2)
    return Key(ratio.astype(np.float32), hue.astype(np.float32), shade.astype(np.float32))



def key_scales(key: Key, on_backdrop: np.ndarray, params: Params) -> tuple[float, float]:
    """The spread of ``hue`` (Rayleigh: median / 1.1774) and ``shade`` (1.4826 MAD) over
    the backdrop pixels: the key's own noise units (JPEG, demosaicing and sensor noise all
    included), at least ``min_key_scale``."""
    if on_backdrop.sum() < 100:
        return 1.0, 1.0
    hue = float(np.median(key.hue[on_backdrop])) / 1.1774
    shade = key.shade[on_backdrop]
    mad = 1.4826 * float(np.median(np.abs(shade - np.median(shade))))
    return max(hue, params.min_key_scale), max(mad, params.min_key_scale)


def on_backdrop(key: Key, scales: tuple[float, float], params: Params) -> np.ndarray:
    """The pixels the surface is refitted to: of the backdrop's hue (within ``bg_sigmas``),
    within ``refit_ratio`` of its light and without texture above the noise; so a part of
    the backdrop the polynomial misses (a hot spot, a dark corner) is still found."""
    hue = key.hue / scales[0]
    shade = key.shade / scales[1]
    texture = local_std(shade[..., None], 3)
    near = (np.abs(key.ratio - 1.0) < params.refit_ratio) | (np.abs(shade) < params.bg_sigmas)
    return np.asarray((hue < params.bg_sigmas) & near & (texture < params.shadow_texture))


def key_distance(key: Key, scales: tuple[float, float], model: np.ndarray,
                 params: Params) -> tuple[np.ndarray, np.ndarray]:
    """How far each pixel is from the backdrop, in key noise units, and where it is shadow.
    A pixel of the backdrop's hue that is darker but not below ``shadow_min`` of its light,
    and smooth (no texture above the noise), is shadow where the model does not say subject:
    its darkness costs nothing. Return (distance, shadow bool)."""
    hue = key.hue / scales[0]
    shade = key.shade / scales[1]
    texture = local_std(highpass(shade)[..., None], 5)
    shadowish = ((hue < params.shadow_hue) & (key.ratio >= params.shadow_min) & (shade < 0)
                 & (texture < params.shadow_texture) & (model < params.model_sure))
    dark = np.where(shadowish, 0.0, shade)
    distance = np.sqrt(hue * hue + dark * dark)
    return distance.astype(np.float32), np.asarray(shadowish)


def disc(radius: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))



def shadow_map(key: Key, shadowish: np.ndarray, alpha: np.ndarray,
               params: Params) -> np.ndarray:
    """The backdrop's light at each pixel, 1 where unshaded: the light ratio of the shadow
    pixels where the backdrop shows (alpha under 0.5), smoothed over ``shadow_smooth`` px
    and carried a little under the subject's edge (so a new backdrop gets the shadow the
    subject cast, soft edges included); never below ``shadow_min``."""
    visible = (alpha < 0.5).astype(np.float32)
    darkening = np.where(shadowish & (alpha < 0.5), 1.0 - np.minimum(key.ratio, 1.0), 0.0)
    smooth = spread(darkening.astype(np.float32), visible, params.shadow_smooth, prior=0.05)
    return np.clip(1.0 - smooth, params.shadow_min, 1.0).astype(np.float32)


def despill(rgb: np.ndarray, alpha: np.ndarray, surface: np.ndarray,
            params: Params) -> np.ndarray:
    """The subject's own colours at its edge: where alpha is partial, the backdrop's share
    is taken out (I = a F + (1 - a) B solved for F with B known; at small alpha the solved
    colour blends into the observed one), and on a coloured screen (Lab chroma of
    ``screen_chroma`` or more) the screen's dominant channel is limited, within
    ``spill_reach`` px of the edge, to the larger of the other two (green light bounced onto
    the subject's rim). A neutral backdrop's subject keeps its colours but the unmixing."""
    image = rgb.astype(np.float32)
    edge = ((alpha > 0.02) & (alpha < 0.98)).astype(np.uint8)
    if not edge.any():
        return rgb
    near = cv2.dilate(edge, disc(params.spill_reach)) == 1
    a = np.maximum(alpha, 1e-3)[..., None]
    solved = surface + (image - surface) / a
    trust = np.clip((alpha - 0.05) / 0.25, 0.0, 1.0)[..., None]
    unmixed = np.clip(trust * solved + (1.0 - trust) * image, 0, 255)
    out = np.where((edge == 1)[..., None], unmixed, image)
    screen = surface.reshape(-1, 3).mean(axis=0)
    if params.spill and lab_chroma(screen) >= params.screen_chroma:
        c = int(np.argmax(screen - screen.mean()))
        others = [i for i in range(3) if i != c]
        limit = out[..., others].max(axis=2)
        out[..., c] = np.where(near, np.minimum(out[..., c], limit), out[..., c])
    return np.asarray(out + 0.5, dtype=np.uint8)


def lab_chroma(colour: np.ndarray) -> float:
    """The CIE Lab chroma (distance from grey) of one sRGB colour (0-255 floats)."""
    pixel = np.clip(np.asarray(colour), 0, 255).astype(np.uint8).reshape(1, 1, 3)
    lab = cv2.cvtColor(pixel, cv2.COLOR_RGB2LAB).astype(np.float32)[0, 0]
    return float(np.hypot(lab[1] - 128.0, lab[2] - 128.0))




def highpass(image: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    """``image`` less its Gaussian blur: noise and texture stay, a smooth ramp (a soft
    shadow's edge, the light's falloff) goes."""
    return np.asarray(image - cv2.GaussianBlur(image, (0, 0), sigma), dtype=np.float32)
