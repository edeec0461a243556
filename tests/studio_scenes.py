"""Small synthetic studio photos for the studio path's tests: a backdrop with uneven light,
a subject, and what studios meet (a contact shadow, green spill, a pale product, a natural
textured background). Each returns the photo, the true subject mask and a model-like mask
(the truth, softened as a saliency model's edge is)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

H, W = 180, 240


@dataclass(frozen=True)
class Scene:
    rgb: np.ndarray  # H x W x 3 uint8
    subject: np.ndarray  # H x W bool: the true subject
    mask: np.ndarray  # H x W float32: what a saliency model might say
    shadow: np.ndarray | None = None  # H x W bool: where the backdrop is shaded


def ellipse(cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    return np.asarray(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1.0)


def falloff(colour: tuple[int, int, int], strength: float = 0.25) -> np.ndarray:
    """The backdrop lit from the left: ``strength`` of its light lost across the frame,
    and a little vignetting."""
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    light = 1.0 - strength * x / W - 0.05 * (((y - H / 2) / H) ** 2)
    return np.asarray(colour, dtype=np.float32) * light[..., None]


def finish(image: np.ndarray, seed: int = 0, noise: float = 1.5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noisy = image + rng.normal(0.0, noise, image.shape)
    return np.asarray(np.clip(noisy + 0.5, 0, 255), dtype=np.uint8)


def soft(subject: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    return np.asarray(cv2.GaussianBlur(subject.astype(np.float32), (0, 0), sigma),
                      dtype=np.float32)


def paint(back: np.ndarray, subject: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    a = soft(subject, 0.8)[..., None]
    return np.asarray(a * np.asarray(colour, np.float32) + (1 - a) * back, dtype=np.float32)


def uneven_white(colour: tuple[int, int, int] = (180, 40, 40)) -> Scene:
    subject = ellipse(120, 85, 45, 55)
    back = falloff((245, 245, 242), 0.3)
    return Scene(finish(paint(back, subject, colour)), subject, soft(subject))


def contact_shadow() -> Scene:
    """A dark subject standing on a white sweep, a soft shadow under and beside it; the
    model calls the shadow half subject, as saliency models do."""
    subject = ellipse(120, 80, 35, 50)
    shade = ellipse(130, 133, 60, 12) & ~subject
    back = falloff((240, 240, 238), 0.15)
    darkness = cv2.GaussianBlur(shade.astype(np.float32), (0, 0), 6.0) * 0.35
    back = back * (1.0 - darkness)[..., None]
    mask = np.maximum(soft(subject), 0.6 * soft(shade))
    return Scene(finish(paint(back, subject, (60, 70, 150))), subject, mask, shade)


def green_spill() -> Scene:
    """A grey subject on an unevenly lit green screen, its rim tinted by the screen."""
    subject = ellipse(120, 90, 50, 55)
    back = falloff((50, 175, 70), 0.35)
    image = paint(back, subject, (128, 128, 128))
    rim = subject & ~cv2.erode(subject.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    image[rim] = image[rim] + np.asarray([-10.0, 40.0, -10.0])
    return Scene(finish(image), subject, soft(subject))


def pale_on_white() -> Scene:
    """A cream product on a white sweep: a few levels from the backdrop."""
    subject = ellipse(120, 90, 45, 55)
    back = falloff((246, 246, 244), 0.1)
    return Scene(finish(paint(back, subject, (232, 226, 205))), subject, soft(subject))


def natural() -> Scene:
    """A subject in front of a textured natural background (foliage, a room)."""
    rng = np.random.default_rng(3)
    coarse = rng.uniform(30, 220, (12, 16, 3)).astype(np.float32)
    back = cv2.resize(coarse, (W, H), interpolation=cv2.INTER_CUBIC)
    back += rng.normal(0, 12, back.shape).astype(np.float32)
    subject = ellipse(120, 90, 45, 55)
    return Scene(finish(paint(back, subject, (200, 40, 40))), subject, soft(subject))


def bokeh() -> Scene:
    """A subject before an out-of-focus background: smooth everywhere, but blotches of
    light and colour no smooth lit surface makes."""
    rng = np.random.default_rng(4)
    coarse = rng.uniform(40, 220, (5, 7, 3)).astype(np.float32)
    back = cv2.resize(coarse, (W, H), interpolation=cv2.INTER_CUBIC)
    subject = ellipse(120, 90, 45, 55)
    return Scene(finish(paint(back, subject, (200, 40, 40))), subject, soft(subject))
