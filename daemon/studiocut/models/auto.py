"""auto: ``model: auto``, the built-in default. The network is u2netp (embedded: nothing to
download); the pipeline looks at each photo's border and, where the backdrop is plain, fuses
u2netp's mask with a key against that backdrop (``imaging.studio``); elsewhere u2netp's mask
is used alone, exactly as ``model: u2netp``.
"""

from __future__ import annotations

import numpy as np

from studiocut.models.registry import MaskModel


class AutoModel:
    """u2netp's mask, marked ``studio`` so the pipeline may take the studio path."""

    name = "auto"
    studio = True  # the pipeline decides per photo between the studio path and the model

    def __init__(self, network: MaskModel) -> None:
        self.network = network

    @property
    def input_size(self) -> tuple[int, int]:
        return self.network.input_size

    @property
    def provider(self) -> str:
        return str(getattr(self.network, "provider", "cpu"))

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        return self.network.predict(rgb)
