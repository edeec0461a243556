"""sam: Segment Anything, an image encoder run once per photo and a decoder that cuts out
what a prompt (a box, points, or a first-pass saliency model's box) points at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from studiocut.errors import ModelError
from studiocut.models.registry import MaskModel, ModelSpec, Prompt
from studiocut.models.saliency import sigmoid


@dataclass(frozen=True)
class SamEmbedding:
    """SAM's encoding of one photo: ``features`` of the letterboxed photo, shrunk by
    ``scale`` to ``size`` (w, h) pixels inside the encoder's frame."""

    features: np.ndarray
    scale: float
    size: tuple[int, int]


class SamModel:
    """Segment Anything: the encoder sees the photo letterboxed into its input frame; the
    decoder cuts out what the prompt points at. The mask is the sigmoid of the decoder's
    logits over the photo's part of the frame."""

    def __init__(self, spec: ModelSpec, encoder: Any, decoder: Any, prompt: Prompt,
                 first_pass: MaskModel | None) -> None:
        self.name = spec.name
        self.spec = spec
        self._encoder = encoder
        self._decoder = decoder
        self.prompt = prompt
        self._first_pass = first_pass
        shape = encoder.get_inputs()[0].shape  # (h, w, 3) in the published export
        if len(shape) == 3 and all(isinstance(d, int) for d in shape[:2]):
            self.frame = (int(shape[1]), int(shape[0]))
        else:
            self.frame = spec.input_size

    @property
    def input_size(self) -> tuple[int, int]:
        return self.frame

    @property
    def provider(self) -> str:
        return str(self._encoder.get_providers()[0])

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        coords, labels = self.prompt_points(rgb)
        h, w = rgb.shape[:2]
        return self.segment(self.embed(rgb), coords * np.array([w, h], dtype=np.float32), labels)

    def embed(self, rgb: np.ndarray) -> SamEmbedding:
        """Run the (slow) image encoder once; ``segment`` answers prompts from its result."""
        h, w = rgb.shape[:2]
        fw, fh = self.frame
        scale = min(fw / w, fh / h)
        sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
        letterbox = np.zeros((fh, fw, 3), dtype=np.float32)
        letterbox[:sh, :sw] = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA)
        name = self._encoder.get_inputs()[0].name
        return SamEmbedding(self._encoder.run(None, {name: letterbox})[0], scale, (sw, sh))

    def segment(self, embedding: SamEmbedding, points: np.ndarray,
                labels: np.ndarray) -> np.ndarray:
        """The soft mask (at the encoder's scale of the photo) for ``points`` (N x 2 pixel
        coordinates of the photo) with SAM's ``labels`` (1 keep, 0 remove, 2 and 3 a box's
        corners)."""
        fw, fh = self.frame
        sw, sh = embedding.size
        coords = points.astype(np.float32) * embedding.scale
        coords = np.concatenate([coords, [[0.0, 0.0]]])[np.newaxis].astype(np.float32)
        labels = np.concatenate([labels, [-1]])[np.newaxis].astype(np.float32)
        masks, scores, _ = self._decoder.run(None, {
            "image_embeddings": embedding.features,
            "point_coords": coords,
            "point_labels": labels,
            "mask_input": np.zeros((1, 1, 256, 256), dtype=np.float32),
            "has_mask_input": np.zeros(1, dtype=np.float32),
            "orig_im_size": np.array([fh, fw], dtype=np.float32),
        })
        best = int(np.argmax(np.asarray(scores)[0])) if np.asarray(scores).size > 1 else 0
        logits = np.asarray(masks)[0, best, :sh, :sw].astype(np.float32)
        return sigmoid(logits)

    def prompt_points(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The prompt as (N x 2 coordinates in fractions of the frame, N labels)."""
        box = self.prompt.box
        if self.prompt.auto:
            box = self._auto_box(rgb)
        points: list[tuple[float, float]] = []
        labels: list[int] = []
        for x, y, label in self.prompt.points:
            points.append((x, y))
            labels.append(label)
        if box is not None:
            points += [(box[0], box[1]), (box[2], box[3])]
            labels += [2, 3]
        if not points:
            raise ModelError(f"model '{self.name}' needs a prompt (box, points or auto)")
        return np.asarray(points, dtype=np.float32), np.asarray(labels, dtype=np.float32)

    def _auto_box(self, rgb: np.ndarray) -> tuple[float, float, float, float]:
        assert self._first_pass is not None
        mask = self._first_pass.predict(rgb)
        ys, xs = np.nonzero(mask > 0.5)
        if xs.size == 0:
            return (0.0, 0.0, 1.0, 1.0)
        mh, mw = mask.shape
        return (xs.min() / mw, ys.min() / mh, (xs.max() + 1) / mw, (ys.max() + 1) / mh)
