"""Synthetic product photos for the benchmarks, made once and cached in a work folder.

Each is a textured subject with soft edges on a light seamless backdrop with a gradient and
sensor noise, saved as a JPEG of realistic size (a few MB at 24 MP). No real photo is needed
and nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def make_photos(folder: Path, count: int, size: tuple[int, int] = (6000, 4000)) -> list[Path]:
    """Return ``count`` JPEG paths in ``folder``, creating the missing ones."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"product{i:03d}.jpg"
        if not path.exists():
            rgb = product(size, seed=i)
            temp = path.with_name(path.stem + ".part.jpg")
            cv2.imwrite(str(temp), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                        [cv2.IMWRITE_JPEG_QUALITY, 92])
            temp.replace(path)
        paths.append(path)
    return paths


def product(size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """One H x W x 3 uint8 product shot."""
    w, h = size
    rng = np.random.default_rng(seed)
    small_w, small_h = max(8, w // 8), max(8, h // 8)
    y, x = np.mgrid[0:small_h, 0:small_w].astype(np.float32)
    backdrop = 238 - 22 * (y / small_h) + 6 * np.sin(x / small_w * 3.1)
    image = np.repeat(backdrop[..., None], 3, axis=2)
    cx, cy = small_w * rng.uniform(0.4, 0.6), small_h * rng.uniform(0.45, 0.6)
    rx, ry = small_w * rng.uniform(0.15, 0.28), small_h * rng.uniform(0.2, 0.33)
    inside = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2
    alpha = np.clip((1.15 - inside) / 0.3, 0, 1)
    colour = rng.uniform(30, 200, size=3).astype(np.float32)
    stripes = 25 * np.sin(x / 3.0 + y / 5.0)[..., None]
    subject = np.clip(colour + stripes, 0, 255)
    image = image * (1 - alpha[..., None]) + subject * alpha[..., None]
    image = cv2.resize(image.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    noise = rng.normal(0, 3.0, size=(h, w, 1)).astype(np.float32)
    return np.clip(image + noise, 0, 255).astype(np.uint8)
