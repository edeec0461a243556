"""predict: the model interface and the model registry.

Every model answers one question, ``predict(rgb) -> mask``: given an H x W x 3 uint8 sRGB image,
return a soft mask in [0, 1] (float32) covering the same frame at the model's own resolution.
The pipeline never cares which network ran. Variants are rows in a table; families are code:
saliency networks (U^2-Net, IS-Net, BiRefNet, BRIA RMBG: one image in, one map out), Segment
Anything (an encoder and a prompted decoder), and the network-free backdrop key.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Protocol

import cv2
import numpy as np
from PIL import Image

from studiocut.errors import ModelError
from studiocut.models.download import Artifact, checksum_ok
from studiocut.models.providers import Placement, open_session

log = logging.getLogger(__name__)

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


Family = Literal["u2net", "isnet", "birefnet", "bria", "sam", "key", "custom"]


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
        return self.family not in ("key", "custom")


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


def models_dir() -> Path:
    """Where downloaded weights live: $STUDIOCUT_MODELS, else the user data folder."""
    env = os.environ.get("STUDIOCUT_MODELS")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path("studiocut", appauthor=False) / "models"


def weights_path(spec: ModelSpec, artifact: Artifact | None = None) -> Path:
    """Return the file holding ``spec``'s (main, or the given) weights."""
    if spec.path is not None:
        return spec.path
    name = (artifact or spec.artifacts[0]).file
    if spec.embedded:
        return Path(str(resources.files("studiocut.models") / name))
    return models_dir() / name


def installed(spec: ModelSpec) -> bool:
    return not spec.needs_files or all(weights_path(spec, a).is_file() for a in spec.artifacts)


def installed_models() -> list[str]:
    """Names of the registered models that can run now (SAM needs a prompt: not listed)."""
    return sorted(n for n, s in MODELS.items() if s.family != "sam" and installed(s))


def pull_command(spec: ModelSpec) -> str:
    return f"studiocut models pull {spec.name}"


def verify(spec: ModelSpec, path: Path, artifact: Artifact | None = None) -> None:
    """Raise ModelError unless ``path`` holds exactly the registered weights."""
    artifact = artifact or spec.artifacts[0]
    ok, description = checksum_ok(path, artifact)
    if not ok:
        algo = description.split()[0]
        raise ModelError(f"{path}: {algo} checksum mismatch for model '{spec.name}' "
                         f"({description}); the file is damaged or not these weights: "
                         f"run `{pull_command(spec)}` to install it again")


# --------------------------------------------------------------------------- families


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Given logits, return float32 probabilities; very negative logits give 0 quietly
    (exp overflows to inf there, which is the right limit, not a fault to report)."""
    with np.errstate(over="ignore"):
        return np.asarray(1.0 / (1.0 + np.exp(-logits)), dtype=np.float32)


class OnnxSaliencyModel:
    """U^2-Net, IS-Net, BiRefNet, BRIA and custom exports: one RGB image in, one map out.

    Preprocessing matches the published test code (and rembg): Lanczos resize to the input
    size, scale by the image's own maximum, normalise by mean/std; the first output's first
    channel, through a sigmoid where the graph ends in logits, then min-max normalised."""

    def __init__(self, spec: ModelSpec, session: Any) -> None:
        self.name = spec.name
        self.spec = spec
        self._session = session
        self._input_name: str = session.get_inputs()[0].name

    @property
    def input_size(self) -> tuple[int, int]:
        return self.spec.input_size

    @property
    def provider(self) -> str:
        return str(self._session.get_providers()[0])

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        tensor = self.preprocess(rgb)
        outputs = self._session.run(None, {self._input_name: tensor})
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
            pred = sigmoid(pred)
        lo, hi = float(pred.min()), float(pred.max())
        result = (pred - lo) / (hi - lo) if hi > lo else np.zeros_like(pred)
        return np.asarray(result, dtype=np.float32)


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


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class Request:
    """Everything that decides which loaded model a profile gets; equal requests share one
    session."""

    spec: ModelSpec
    placement: Placement = field(default_factory=Placement)
    prompt: Prompt | None = None
    key: KeySettings | None = None


_loaded: dict[Any, MaskModel] = {}
_lock = threading.RLock()


def spec_for(name: str) -> ModelSpec:
    """Return the registry row for ``name``; raise ModelError listing the known names."""
    spec = MODELS.get(name)
    if spec is None:
        raise ModelError(f"unknown model '{name}' (known: {', '.join(sorted(MODELS))})")
    return spec


def load(name: str, *, threads: int = 0) -> MaskModel:
    """Return the registered model ``name`` on the CPU (or ``device: auto`` defaults)."""
    return open_model(Request(spec_for(name), Placement(threads=threads)))


def open_model(request: Request) -> MaskModel:
    """Return the model for ``request``, loading it once per process; raise ModelError if it
    is unknown, missing or damaged. Never downloads."""
    key = (request.spec, _freeze(request.placement), request.prompt, request.key)
    with _lock:
        if key not in _loaded:
            _loaded[key] = _open(request)
        return _loaded[key]


def _freeze(placement: Placement) -> tuple[Any, ...]:
    options = tuple(sorted((k, tuple(sorted(v.items()))) for k, v in placement.options.items()))
    return (placement.device, placement.require_gpu, placement.threads, options,
            placement.cache_dir)


def _open(request: Request) -> MaskModel:
    spec = request.spec
    if spec.family == "key":
        settings = request.key or KeySettings()
        assist_name = "u2netp" if settings.assist == "auto" else settings.assist
        assist = None
        if assist_name != "none":
            assist = open_model(Request(spec_for(assist_name), request.placement))
        return BackdropKey(settings, assist=assist)
    if spec.family == "custom":
        assert spec.path is not None
        if not spec.path.is_file():
            raise ModelError(f"custom model file {spec.path} does not exist")
        if spec.sha256:
            verify(spec, spec.path)
        return OnnxSaliencyModel(spec, open_session(spec.path, request.placement,
                                                    what=f"model {spec.name}"))
    paths = []
    for artifact in spec.artifacts:
        path = weights_path(spec, artifact)
        if not path.is_file():
            raise ModelError(f"model '{spec.name}' is not installed: run `{pull_command(spec)}`"
                             f" (or put {artifact.file} in {path.parent})")
        verify(spec, path, artifact)
        paths.append(path)
    if not spec.commercial:
        log.warning("model %s: %s", spec.name, spec.licence)
    what = f"model {spec.name}"
    if spec.family == "sam":
        prompt = request.prompt or Prompt(auto=True)
        first = None
        if prompt.auto:
            first = open_model(Request(spec_for(prompt.first_pass), request.placement))
        encoder = open_session(paths[0], request.placement, what=what + " encoder")
        decoder = open_session(paths[1], request.placement, what=what + " decoder")
        return SamModel(spec, encoder, decoder, prompt, first)
    return OnnxSaliencyModel(spec, open_session(paths[0], request.placement, what=what))
