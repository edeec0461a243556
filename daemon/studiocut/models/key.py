"""key: ``backdrop-key``, the network-free model: alpha from each pixel's colour distance to
the backdrop, with a saliency model's help on neutral sweeps, and colour-spill removal.
"""

from __future__ import annotations

import cv2
import numpy as np

from studiocut.models.registry import KeySettings, MaskModel

NEUTRAL_CHROMA = 15.0  # Lab a*b* radius under which a backdrop counts as white/grey/black


def chroma(rgb: tuple[int, int, int] | np.ndarray) -> float:
    """The Lab chroma (distance from grey) of one colour."""
    pixel = np.asarray(rgb, dtype=np.uint8).reshape(1, 1, 3)
    lab = cv2.cvtColor(pixel, cv2.COLOR_RGB2LAB).astype(np.float32)[0, 0]
    return float(np.hypot(lab[1] - 128.0, lab[2] - 128.0))


class BackdropKey:
    """No network for the colour: alpha ramps from 0 to 1 with each pixel's Lab distance
    from the backdrop colour. On a neutral seamless (white, grey) the colour cannot tell a
    white product from the sweep, so where the key is not decisive the assisting saliency
    model's mask decides; on a green or blue screen the key alone is exact and instant."""

    name = "backdrop-key"
    provider = "none (no network)"

    def __init__(self, settings: KeySettings | None = None, *, assist: MaskModel | None = None,
                 work: int = 640) -> None:
        self.settings = settings or KeySettings()
        self.assist = assist
        self.work = work

    @property
    def input_size(self) -> tuple[int, int]:
        return (self.work, self.work)

    def backdrop_colour(self, rgb: np.ndarray) -> tuple[int, int, int]:
        """The profile's colour, or the median colour of the frame's border."""
        if self.settings.colour is not None:
            return self.settings.colour
        border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
        r, g, b = np.median(border, axis=0)
        return (int(r), int(g), int(b))

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        scale = min(1.0, self.work / max(h, w))
        small = rgb
        if scale < 1.0:
            small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                               interpolation=cv2.INTER_AREA)
        key = self.backdrop_colour(small)
        lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
        key_lab = cv2.cvtColor(np.asarray(key, np.uint8).reshape(1, 1, 3),
                               cv2.COLOR_RGB2LAB).astype(np.float32)[0, 0]
        low, high = self.settings.tolerance
        distance = np.linalg.norm(lab - key_lab, axis=2)
        alpha: np.ndarray = np.clip((distance - low) / (high - low), 0, 1).astype(np.float32)
        if self.assist is not None and chroma(key) < NEUTRAL_CHROMA:
            alpha = self._with_assist(small, alpha)
        return alpha

    def _with_assist(self, rgb: np.ndarray, key: np.ndarray) -> np.ndarray:
        """Keep the key where it is decisive (clearly subject-coloured, or clearly backdrop
        where the model agrees); elsewhere take the model's mask."""
        assert self.assist is not None
        h, w = key.shape
        model = cv2.resize(self.assist.predict(rgb), (w, h), interpolation=cv2.INTER_LINEAR)
        decisive = (key >= 0.98) | ((key <= 0.02) & (model < 0.5))
        return np.asarray(np.where(decisive, key, np.clip(model, 0, 1)), dtype=np.float32)

    def despill(self, rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        """Take the screen's colour cast off the subject: on a coloured backdrop (chroma of
        NEUTRAL_CHROMA or more) the channel the backdrop is strongest in is limited to the
        mean of the other two; on a neutral backdrop nothing changes."""
        if not self.settings.spill:
            return rgb
        key = self.settings.colour or _median_where(rgb, alpha < 0.02)
        if key is None or chroma(key) < NEUTRAL_CHROMA:
            return rgb
        c = int(np.argmax(np.asarray(key, dtype=np.float32) - np.mean(key)))
        others = [i for i in range(3) if i != c]
        limit = rgb[..., others].astype(np.float32).mean(axis=2)
        out = rgb.copy()
        channel = out[..., c].astype(np.float32)
        out[..., c] = np.minimum(channel, limit).astype(np.uint8)
        return out


def _median_where(rgb: np.ndarray, where: np.ndarray) -> tuple[int, int, int] | None:
    if int(where.sum()) < 16:
        return None
    r, g, b = np.median(rgb[where], axis=0)
    return (int(r), int(g), int(b))
