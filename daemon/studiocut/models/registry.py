"""registry: the model interface, the table of registered models, and the values that ask
for one.

Every model answers one question, ``predict(rgb) -> mask``: given an H x W x 3 uint8 sRGB image,
return a soft mask in [0, 1] (float32) covering the same frame at the model's own resolution.
The pipeline never cares which network ran. Variants are rows in a table; families are code:
saliency networks (U^2-Net, IS-Net, BiRefNet, BRIA RMBG: one image in, one map out), Segment
Anything (an encoder and a prompted decoder), and the network-free backdrop key.

This is what the layers above name models through: the rows (``MODELS``, ``spec_for``), what a
profile may ask of a model (``Prompt``, ``KeySettings``), where it runs (``Placement`` and the
device names of ``providers``), and the ``Request`` that puts them together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from studiocut.errors import ModelError
from studiocut.models.download import Artifact
from studiocut.models.providers import CPU, DEVICE_CHOICES, DEVICES, Placement

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "CPU",
    "DEVICES",
    "DEVICE_CHOICES",
    "MODELS",
    "RELEASES",
    "Family",
    "KeySettings",
    "MaskModel",
    "ModelSpec",
    "Placement",
    "Prompt",
    "Request",
    "spec_for",
]

RELEASES = "https://github.com/danielgatis/rembg/releases/download/v0.0.0/"


class MaskModel(Protocol):
    """What the pipeline needs of a model."""

    name: str

    @property
    def input_size(self) -> tuple[int, int]:
        """(w, h) of the image the model looks at; decoding need not go beyond it."""
        ...

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        """Given H x W x 3 uint8 sRGB, return a float32 mask in [0, 1] covering the frame."""
        ...


Family = Literal["u2net", "isnet", "birefnet", "bria", "sam", "key", "custom", "auto"]


@dataclass(frozen=True)
class ModelSpec:
    """One row of the registry: a set of weights and how to feed them."""

    name: str
    family: Family
    file: str = ""
    md5: str = ""
    sha256: str = ""
    input_size: tuple[int, int] = (320, 320)
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    output: Literal["minmax", "sigmoid"] = "minmax"
    licence: str = "Apache-2.0"
    commercial: bool = True
    embedded: bool = False
    size_mb: float = 0.0
    extra: tuple[Artifact, ...] = ()  # further files (SAM's decoder)
    path: Path | None = None  # a studio's own export (family "custom")

    @property
    def artifacts(self) -> tuple[Artifact, ...]:
        main = (Artifact(self.file, self.md5, self.sha256),) if self.file else ()
        return main + self.extra

    @property
    def needs_files(self) -> bool:
        return self.family not in ("key", "custom", "auto")


_BIREFNET: dict[str, Any] = dict(family="birefnet", input_size=(1024, 1024), output="sigmoid",
                                 licence="MIT", size_mb=973)
_SAM: dict[str, Any] = dict(family="sam", input_size=(1024, 684), licence="Apache-2.0")

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("u2netp", "u2net", "u2netp.onnx", "8e83ca70e441ab06c318d82300c84806",
                  "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8",
                  embedded=True, size_mb=4.6),
        ModelSpec("u2net", "u2net", "u2net.onnx", "60024c5c889badc19c04ad937298a77b",
                  size_mb=176),
        ModelSpec("u2net_human_seg", "u2net", "u2net_human_seg.onnx",
                  "c09ddc2e0104f800e3e1bb4652583d1f", size_mb=176),
        ModelSpec("silueta", "u2net", "silueta.onnx", "55e59e0d8062d2f5d013f4725ee84782",
                  size_mb=43),
        ModelSpec("isnet-general-use", "isnet", "isnet-general-use.onnx",
                  "fc16ebd8b0c10d971d3513d564d01e29", input_size=(1024, 1024),
                  mean=(0.5, 0.5, 0.5), std=(1.0, 1.0, 1.0), size_mb=179),
        ModelSpec("birefnet-general", file="BiRefNet-general-epoch_244.onnx",
                  md5="7a35a0141cbbc80de11d9c9a28f52697", **_BIREFNET),
        ModelSpec("birefnet-general-lite",
                  file="BiRefNet-general-bb_swin_v1_tiny-epoch_232.onnx",
                  md5="4fab47adc4ff364be1713e97b7e66334", **{**_BIREFNET, "size_mb": 224}),
        ModelSpec("birefnet-portrait", file="BiRefNet-portrait-epoch_150.onnx",
                  md5="c3a64a6abf20250d090cd055f12a3b67", **_BIREFNET),
        ModelSpec("birefnet-hrsod", file="BiRefNet-HRSOD_DHU-epoch_115.onnx",
                  md5="c017ade5de8a50ff0fd74d790d268dda", **_BIREFNET),
        ModelSpec("birefnet-massive", file="BiRefNet-massive-TR_DIS5K_TR_TEs-epoch_420.onnx",
                  md5="33e726a2136a3d59eb0fdf613e31e3e9", **_BIREFNET),
        ModelSpec("bria-rmbg-2.0", "bria", "bria-rmbg-2.0.onnx", input_size=(1024, 1024),
                  output="sigmoid", licence="CC BY-NC 4.0 (non-commercial use only)",
                  commercial=False, size_mb=1024),
        ModelSpec("sam-vit-b", file="sam_vit_b_01ec64.encoder.onnx",
                  md5="a780f8ba09bceceaa1435724ed354848", size_mb=343,
                  extra=(Artifact("sam_vit_b_01ec64.decoder.onnx",
                                  "c4218b16ec1cb09889fcd6eb7a42a7c9"),), **_SAM),
        ModelSpec("sam-vit-b-quant", file="sam_vit_b_01ec64.encoder.quant.onnx",
                  md5="26fc0e01d2fa34ed2d3f91259118482d", size_mb=104,
                  extra=(Artifact("sam_vit_b_01ec64.decoder.quant.onnx",
                                  "45391530307d1aee79b2a1507769e6c7"),), **_SAM),
        ModelSpec("sam-vit-l", file="sam_vit_l_0b3195.encoder.onnx",
                  md5="6e7c5e3e97b50a9e833e55062ae35182", size_mb=1200,
                  extra=(Artifact("sam_vit_l_0b3195.decoder.onnx",
                                  "dc760a2912862c05ec3ac2658162a1b5"),), **_SAM),
        ModelSpec("backdrop-key", "key", licence="n/a (no weights)"),
        # u2netp's mask, fused with a key against the backdrop where the photo's border
        # shows a plain one (imaging.studio); the embedded u2netp is all it needs
        ModelSpec("auto", "auto", licence="Apache-2.0 (u2netp)", size_mb=4.6),
    )
}


@dataclass(frozen=True)
class Prompt:
    """What Segment Anything is asked to cut out, in fractions of the frame: a box
    (x0, y0, x1, y1), points (x, y, label: 1 keep, 0 remove), or ``auto`` (the box of a
    first-pass saliency model's mask)."""

    box: tuple[float, float, float, float] | None = None
    points: tuple[tuple[float, float, int], ...] = ()
    auto: bool = False
    first_pass: str = "u2netp"


@dataclass(frozen=True)
class KeySettings:
    """How ``backdrop-key`` separates subject from backdrop: the backdrop ``colour`` (None:
    the median of the frame's border), the Lab distance ``tolerance`` (below the first value
    is backdrop, above the second is subject), colour ``spill`` suppression, and ``assist``:
    a saliency model whose mask decides where the colour alone cannot (a white product on a
    white sweep); "auto" uses u2netp on neutral backdrops and nothing on coloured screens."""

    colour: tuple[int, int, int] | None = None
    tolerance: tuple[float, float] = (12.0, 40.0)
    spill: bool = True
    assist: str = "auto"


@dataclass(frozen=True)
class Request:
    """Everything that decides which loaded model a profile gets; equal requests share one
    session."""

    spec: ModelSpec
    placement: Placement = field(default_factory=Placement)
    prompt: Prompt | None = None
    key: KeySettings | None = None


def spec_for(name: str) -> ModelSpec:
    """Return the registry row for ``name``; raise ModelError listing the known names."""
    spec = MODELS.get(name)
    if spec is None:
        raise ModelError(f"unknown model '{name}' (known: {', '.join(sorted(MODELS))})")
    return spec
