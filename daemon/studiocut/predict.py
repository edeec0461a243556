"""predict: the model interface and the model registry.

Every model answers one question, ``predict(rgb) -> mask``: given an H x W x 3 uint8 sRGB image,
return a soft mask in [0, 1] (float32) covering the same frame at the model's own resolution.
The pipeline never cares which network ran. Variants are rows in a table; families are code.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal, Protocol

import cv2
import numpy as np
from PIL import Image

from studiocut.errors import ModelError

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class ModelSpec:
    """One row of the registry: a set of weights and how to feed them."""

    name: str
    family: Literal["u2net", "isnet", "birefnet", "key"]
    file: str = ""
    md5: str = ""
    sha256: str = ""
    input_size: tuple[int, int] = (320, 320)
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)
    output: Literal["minmax", "sigmoid"] = "minmax"
    licence: str = "Apache-2.0"
    embedded: bool = False


_IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
_BIREFNET = dict(family="birefnet", input_size=(1024, 1024), output="sigmoid", licence="MIT")

MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("u2netp", "u2net", "u2netp.onnx", "8e83ca70e441ab06c318d82300c84806",
                  "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8",
                  embedded=True),
        ModelSpec("u2net", "u2net", "u2net.onnx", "60024c5c889badc19c04ad937298a77b"),
        ModelSpec("u2net_human_seg", "u2net", "u2net_human_seg.onnx",
                  "c09ddc2e0104f800e3e1bb4652583d1f"),
        ModelSpec("silueta", "u2net", "silueta.onnx", "55e59e0d8062d2f5d013f4725ee84782"),
        ModelSpec("isnet-general-use", "isnet", "isnet-general-use.onnx",
                  "fc16ebd8b0c10d971d3513d564d01e29", input_size=(1024, 1024),
                  mean=(0.5, 0.5, 0.5), std=(1.0, 1.0, 1.0)),
        ModelSpec("birefnet-general", file="BiRefNet-general-epoch_244.onnx",
                  md5="7a35a0141cbbc80de11d9c9a28f52697", **_BIREFNET),  # type: ignore[arg-type]
        ModelSpec("birefnet-general-lite",
                  file="BiRefNet-general-bb_swin_v1_tiny-epoch_232.onnx",
                  md5="4fab47adc4ff364be1713e97b7e66334", **_BIREFNET),  # type: ignore[arg-type]
        ModelSpec("birefnet-portrait", file="BiRefNet-portrait-epoch_150.onnx",
                  md5="c3a64a6abf20250d090cd055f12a3b67", **_BIREFNET),  # type: ignore[arg-type]
        ModelSpec("birefnet-hrsod", file="BiRefNet-HRSOD_DHU-epoch_115.onnx",
                  md5="c017ade5de8a50ff0fd74d790d268dda", **_BIREFNET),  # type: ignore[arg-type]
        ModelSpec("birefnet-massive", file="BiRefNet-massive-TR_DIS5K_TR_TEs-epoch_420.onnx",
                  md5="33e726a2136a3d59eb0fdf613e31e3e9", **_BIREFNET),  # type: ignore[arg-type]
        ModelSpec("backdrop-key", "key", licence="n/a (no weights)"),
    )
}


def models_dir() -> Path:
    """Where downloaded weights live: $STUDIOCUT_MODELS, else the user data folder."""
    env = os.environ.get("STUDIOCUT_MODELS")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path("studiocut", appauthor=False) / "models"


def weights_path(spec: ModelSpec) -> Path:
    """Return the file holding ``spec``'s weights (inside the package when embedded)."""
    if spec.embedded:
        return Path(str(resources.files("studiocut") / "models" / spec.file))
    return models_dir() / spec.file


def verify(spec: ModelSpec, path: Path) -> None:
    """Raise ModelError unless ``path`` holds exactly the registered weights."""
    if spec.sha256:
        algo, want = "sha256", spec.sha256
    else:
        algo, want = "md5", spec.md5
    digest = hashlib.new(algo)
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    if want and digest.hexdigest() != want:
        raise ModelError(f"{path}: {algo} checksum mismatch for model '{spec.name}' "
                         f"(got {digest.hexdigest()}; expected {want}); the file is damaged "
                         "or not these weights: delete it and install it again")


class OnnxSaliencyModel:
    """U^2-Net, IS-Net and BiRefNet: one RGB image in, one saliency map out.

    Preprocessing matches the published test code (and rembg): Lanczos resize to the input
    size, scale by the image's own maximum, normalise by mean/std; the first output's first
    channel, through a sigmoid where the graph ends in logits, then min-max normalised."""

    def __init__(self, spec: ModelSpec, session: object) -> None:
        self.name = spec.name
        self.spec = spec
        self._session = session
        inputs = session.get_inputs()  # type: ignore[attr-defined]
        self._input_name: str = inputs[0].name

    @property
    def input_size(self) -> tuple[int, int]:
        return self.spec.input_size

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        tensor = self.preprocess(rgb)
        outputs = self._session.run(None, {self._input_name: tensor})  # type: ignore[attr-defined]
        return self.postprocess(np.asarray(outputs[0]))

    def preprocess(self, rgb: np.ndarray) -> np.ndarray:
        w, h = self.spec.input_size
        small = np.asarray(Image.fromarray(rgb).resize((w, h), Image.Resampling.LANCZOS),
                           dtype=np.float32)
        top = float(small.max())
        small /= top if top > 0 else 1.0
        small -= np.asarray(self.spec.mean, dtype=np.float32)
        small /= np.asarray(self.spec.std, dtype=np.float32)
        return np.ascontiguousarray(small.transpose(2, 0, 1)[np.newaxis])

    def postprocess(self, output: np.ndarray) -> np.ndarray:
        pred = output[0, 0].astype(np.float32)
        if self.spec.output == "sigmoid":
            pred = 1.0 / (1.0 + np.exp(-pred))
        lo, hi = float(pred.min()), float(pred.max())
        return (pred - lo) / (hi - lo) if hi > lo else np.zeros_like(pred)


class BackdropKey:
    """No network: the backdrop colour is the median of the frame's border, and alpha ramps
    from 0 to 1 with the colour distance from it. For green screens and evenly lit seamless
    backdrops, where it is exact and instant."""

    name = "backdrop-key"

    def __init__(self, *, low: float = 12.0, high: float = 40.0, work: int = 640) -> None:
        self.low, self.high, self.work = low, high, work

    @property
    def input_size(self) -> tuple[int, int]:
        return (self.work, self.work)

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        scale = min(1.0, self.work / max(h, w))
        if scale < 1.0:
            rgb = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
                             interpolation=cv2.INTER_AREA)
        lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
        border = np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]])
        key = np.median(border, axis=0)
        distance = np.linalg.norm(lab - key, axis=2)
        return np.clip((distance - self.low) / (self.high - self.low), 0.0, 1.0)


_loaded: dict[tuple[str, int], MaskModel] = {}
_lock = threading.Lock()


def load(name: str, *, threads: int = 0) -> MaskModel:
    """Return the model registered as ``name``, loading it once per process and thread
    setting; raise ModelError if it is unknown, missing or damaged. Never downloads."""
    with _lock:
        key = (name, threads)
        if key not in _loaded:
            _loaded[key] = _open(name, threads)
        return _loaded[key]


def _open(name: str, threads: int) -> MaskModel:
    spec = MODELS.get(name)
    if spec is None:
        raise ModelError(f"unknown model '{name}' (known: {', '.join(sorted(MODELS))})")
    if spec.family == "key":
        return BackdropKey()
    path = weights_path(spec)
    if not path.is_file():
        raise ModelError(f"model '{name}' is not installed: put {spec.file} in {path.parent} "
                         f"(md5 {spec.md5})")
    verify(spec, path)
    session = _session(path, threads)
    log.info("model %s loaded from %s on %s", name, path, session.get_providers()[0])
    return OnnxSaliencyModel(spec, session)


def _session(path: Path, threads: int) -> object:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
