"""Every model family end to end, on tiny ONNX graphs built here with the real signatures.

Only the u2netp weights are at hand, so each family is played by a graph of a few nodes with
the family's input and output names and shapes, written to tmp_path and registered (with its
real md5) as a model of its own. The graphs compute something a test can predict exactly:

- saliency (u2net, isnet, birefnet, bria, custom): the first output is the normalised red
  channel (through a ReLU for the min-max families, scaled into logits for the sigmoid
  ones); the further outputs are its negative, so reading the wrong output shows. A photo
  whose red channel ramps from 0 to the image's maximum then gives a known alpha curve.
- Segment Anything: the encoder passes the letterboxed image through as its "embeddings";
  the decoder draws the box spanned by the first two prompt points (or a square around the
  first point), in the decoder's pixel grid, optionally cut down to where the image is red.
  A wrong prompt transform (not scaled like the letterbox, x and y swapped) moves it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from conftest import make_profile
from onnx_graphs import (
    SAM_FRAME,
    U2NET_OUTPUTS,
    Recording,
    saliency_graph,
    sam_decoder,
    sam_encoder,
)
from studiocut.errors import ModelError
from studiocut.imaging import pipeline
from studiocut.models import predict, registry
from studiocut.models.download import Artifact
from studiocut.models.registry import MODELS, ModelSpec, Prompt
from studiocut.models.saliency import OnnxSaliencyModel
from studiocut.models.sam import SamModel
from studiocut.profiles import Profile

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # e.g. overflow in exp

# --------------------------------------------------------------------------- registering


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("STUDIOCUT_MODELS", str(folder))
    monkeypatch.setattr(predict, "_loaded", {})
    return folder


def register(monkeypatch: pytest.MonkeyPatch, like: str, file: str, md5: str,
             **changes: Any) -> ModelSpec:
    """Register ``test-<like>``: the registry row ``like`` with this file and checksum."""
    spec = dataclasses.replace(MODELS[like], name=f"test-{like}", file=file, md5=md5,
                               sha256="", embedded=False, **changes)
    monkeypatch.setitem(MODELS, spec.name, spec)
    return spec


def cut_out(source: Path, profile: Profile, out: Path) -> np.ndarray:
    """Run the pipeline with the profile's model; return the output's alpha in [0, 1]."""
    model = predict.open_model(profile.model_request())
    out.mkdir(exist_ok=True)
    outcome = pipeline.process(source, model, profile, output_root=out)
    assert outcome.ok, outcome.message
    with Image.open(outcome.output) as result:  # type: ignore[arg-type]
        assert result.mode == "RGBA"
        return np.asarray(result)[..., 3].astype(np.float64) / 255.0


# --------------------------------------------------------------------------- saliency

RAMP_W, RAMP_H, RAMP_TOP = 400, 300, 200


def ramp_photo(folder: Path) -> Path:
    """Red ramps from 0 (left) to 200 (right); green is 200 everywhere, so the image's own
    maximum is 200 (scaling by 255 instead shows), and blue is a flat 60 (reading BGR shows)."""
    x = np.arange(RAMP_W, dtype=np.float64)
    pixels = np.empty((RAMP_H, RAMP_W, 3), dtype=np.uint8)
    pixels[..., 0] = np.round(x / (RAMP_W - 1) * RAMP_TOP)
    pixels[..., 1] = RAMP_TOP
    pixels[..., 2] = 60
    path = folder / "ramp.png"
    Image.fromarray(pixels).save(path)
    return path


def ramp_t() -> np.ndarray:
    """The red channel scaled by the image's maximum, per column of the ramp photo."""
    return np.round(np.arange(RAMP_W) / (RAMP_W - 1) * RAMP_TOP) / RAMP_TOP


def minmax_relu(t: np.ndarray, mean: float) -> np.ndarray:
    """ReLU of the normalised red, min-max normalised (the std cancels out)."""
    return np.asarray(np.clip((t - mean) / (1.0 - mean), 0.0, 1.0))


def minmax_sigmoid(t: np.ndarray, mean: float, std: float, gain: float) -> np.ndarray:
    def s(v: np.ndarray) -> np.ndarray:
        return np.asarray(1.0 / (1.0 + np.exp(-gain * (v - mean) / std)))

    lo, hi = s(np.array(0.0)), s(np.array(1.0))
    return np.asarray((s(t) - lo) / (hi - lo))


def assert_ramp(alpha: np.ndarray, expected: np.ndarray) -> None:
    """Every row of the alpha follows the expected curve (the ends are left out: a Lanczos
    resize cannot keep a ramp's last few pixels exactly)."""
    assert alpha.shape == (RAMP_H, RAMP_W)
    inner = slice(8, RAMP_W - 8)
    error = np.abs(alpha[:, inner] - expected[inner]).max()
    assert error < 0.03, f"alpha is {error:.3f} off the expected curve"


# (registry row, graph input name, output names, logit gain, mean of red from MODELS.md,
#  std of red): the u2net and isnet families min-max a map, birefnet and bria squash logits
SALIENCY = [
    ("u2net", "input.1", U2NET_OUTPUTS, None, 0.485, 0.229),
    ("silueta", "input.1", U2NET_OUTPUTS, None, 0.485, 0.229),
    ("isnet-general-use", "input_image", ["output_image", "side1", "side2"], None, 0.5, 1.0),
    ("birefnet-general", "input_image", ["output_image"], 4.0, 0.485, 0.229),
    ("birefnet-general-lite", "input_image", ["output_image"], 4.0, 0.485, 0.229),
    ("bria-rmbg-2.0", "pixel_values", ["alphas"], 4.0, 0.485, 0.229),
]


@pytest.mark.parametrize(("like", "input_name", "outputs", "gain", "mean", "std"), SALIENCY,
                         ids=[row[0] for row in SALIENCY])
def test_saliency_family_end_to_end(
    tmp_path: Path, models: Path, monkeypatch: pytest.MonkeyPatch, like: str,
    input_name: str, outputs: list[str], gain: float | None, mean: float, std: float,
) -> None:
    size = MODELS[like].input_size
    file = f"test-{like}.onnx"
    md5 = saliency_graph(models / file, size=size, input_name=input_name, outputs=outputs,
                         gain=gain)
    spec = register(monkeypatch, like, file, md5)
    profile = make_profile(model=spec.name, backdrop="transparent")

    alpha = cut_out(ramp_photo(tmp_path), profile, tmp_path / "out")

    if gain is None:
        expected = minmax_relu(ramp_t(), mean)
    else:
        expected = minmax_sigmoid(ramp_t(), mean, std, gain)
    assert_ramp(alpha, expected)
    assert alpha[:, :100].max() < 0.02  # below the mean: nothing (and no -red side output)


@pytest.mark.parametrize(("like", "size"), [("u2net", (320, 320)),
                                             ("isnet-general-use", (1024, 1024)),
                                             ("birefnet-general", (1024, 1024)),
                                             ("bria-rmbg-2.0", (1024, 1024))])
def test_each_family_feeds_its_graph_the_size_that_models_md_gives(like: str,
                                                                   size: tuple[int, int]) -> None:
    assert MODELS[like].input_size == size


def _birefnet_like(models: Path, monkeypatch: pytest.MonkeyPatch) -> OnnxSaliencyModel:
    """A tiny graph with BiRefNet's signature (1024 px, logits out), registered as it."""
    md5 = saliency_graph(models / "b.onnx", size=(1024, 1024), input_name="input_image",
                         outputs=["output_image"], gain=4.0)
    spec = register(monkeypatch, "birefnet-general", "b.onnx", md5)
    model = predict.open_model(registry.Request(spec))
    assert isinstance(model, OnnxSaliencyModel)
    return model


def test_saliency_mask_at_model_resolution_is_exactly_the_published_recipe(
    models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _birefnet_like(models, monkeypatch)
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 180, size=(150, 230, 3), dtype=np.uint8)

    mask = model.predict(pixels)

    small = np.asarray(Image.fromarray(pixels).resize((1024, 1024), Image.Resampling.LANCZOS),
                       dtype=np.float64)
    red = (small[..., 0] / small.max() - 0.485) / 0.229
    squashed = 1.0 / (1.0 + np.exp(-4.0 * red))
    expected = (squashed - squashed.min()) / (squashed.max() - squashed.min())
    assert mask.shape == (1024, 1024) and mask.dtype == np.float32
    assert np.allclose(mask, expected, atol=1e-4)


def test_logits_far_below_zero_squash_to_zero_without_an_overflow_warning(
    models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _birefnet_like(models, monkeypatch)
    logits = np.array([[[[-1000.0, -100.0, 0.0, 100.0]]]], dtype=np.float32)

    mask = model.postprocess(logits)  # RuntimeWarnings are errors in this module

    assert np.allclose(mask, [[0.0, 0.0, 0.5, 1.0]], atol=1e-6)


def test_a_non_commercial_model_logs_its_licence_when_it_loads(
    models: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    md5 = saliency_graph(models / "bria.onnx", size=(1024, 1024), input_name="pixel_values",
                         outputs=["alphas"], gain=1.0)
    spec = register(monkeypatch, "bria-rmbg-2.0", "bria.onnx", md5)

    predict.open_model(registry.Request(spec))

    assert "model test-bria-rmbg-2.0: CC BY-NC 4.0 (non-commercial use only)" in caplog.text


# --------------------------------------------------------------------------- custom export


def custom_profile(path: Path, **more: Any) -> Profile:
    return make_profile(model={"path": str(path), "input_size": [64, 48],
                               "mean": [0.2, 0.5, 0.5], "std": [0.1, 1.0, 1.0],
                               "output": "sigmoid", **more}, backdrop="transparent")


def test_custom_model_from_a_profile_mapping_end_to_end(tmp_path: Path, models: Path) -> None:
    path = tmp_path / "exports" / "studio-v3.onnx"
    path.parent.mkdir()
    saliency_graph(path, size=(64, 48), input_name="images", outputs=["mask"], gain=1.0)
    profile = custom_profile(path)
    assert profile.custom_model is not None and profile.model == "custom:studio-v3"

    alpha = cut_out(ramp_photo(tmp_path), profile, tmp_path / "out")

    # 64 x 48 input (a swapped size would not fit the graph), mean/std of the profile
    assert_ramp(alpha, minmax_sigmoid(ramp_t(), 0.2, 0.1, 1.0))


def test_custom_model_with_a_sha256_pin_is_checked(tmp_path: Path, models: Path) -> None:
    path = tmp_path / "studio.onnx"
    saliency_graph(path, size=(64, 48), input_name="images", outputs=["mask"])
    good = hashlib.sha256(path.read_bytes()).hexdigest()

    assert predict.open_model(custom_profile(path, sha256=good).model_request()).name == (
        "custom:studio")
    with pytest.raises(ModelError, match="sha256 checksum mismatch"):
        predict.open_model(custom_profile(path, sha256="0" * 64).model_request())


def test_custom_model_file_that_does_not_exist_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"custom model file .* does not exist"):
        predict.open_model(custom_profile(tmp_path / "gone.onnx").model_request())


# --------------------------------------------------------------------------- Segment Anything

SUBJECT = (0.2, 0.3, 0.8, 0.7)  # the red rectangle, fractions of the frame


def sam_photo(folder: Path, size: tuple[int, int], *, ellipse: bool = False) -> Path:
    """A red subject on a dark blue-grey backdrop (red 40: well below the decoder's 128)."""
    w, h = size
    pixels = np.empty((h, w, 3), dtype=np.uint8)
    pixels[:] = (40, 60, 90)
    x0, y0, x1, y1 = (round(f * n) for f, n in zip(SUBJECT, (w, h, w, h), strict=True))
    if ellipse:
        yy, xx = np.mgrid[0:h, 0:w]
        cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
        pixels[((xx + 0.5 - cx) / rx) ** 2 + ((yy + 0.5 - cy) / ry) ** 2 <= 1] = (220, 40, 40)
    else:
        pixels[y0:y1, x0:x1] = (220, 40, 40)
    path = folder / f"sam-{w}x{h}.png"
    Image.fromarray(pixels).save(path)
    return path


def register_sam(models: Path, monkeypatch: pytest.MonkeyPatch, *, draw: str,
                 red_only: bool = False) -> ModelSpec:
    encoder_md5 = sam_encoder(models / "test-sam.encoder.onnx")
    decoder_md5 = sam_decoder(models / "test-sam.decoder.onnx", draw=draw, red_only=red_only)
    return register(monkeypatch, "sam-vit-b", "test-sam.encoder.onnx", encoder_md5,
                    extra=(Artifact("test-sam.decoder.onnx", decoder_md5),))


def opaque_box(alpha: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(alpha > 0.5)
    assert xs.size, "nothing is opaque"
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def assert_box(alpha: np.ndarray, expected: Sequence[float], size: tuple[int, int]) -> None:
    """The opaque part of ``alpha`` is the rectangle ``expected`` (fractions), to 2 px, and
    it is solid."""
    w, h = size
    want = (expected[0] * w, expected[1] * h, expected[2] * w, expected[3] * h)
    got = opaque_box(alpha)
    assert np.allclose(got, want, atol=2), (got, want)
    x0, y0, x1, y1 = got
    assert (alpha[y0 + 2:y1 - 2, x0 + 2:x1 - 2] > 0.9).all()


SIZES = [(400, 300), (240, 360)]  # wider than tall but less than the frame; and portrait


@pytest.mark.parametrize("size", SIZES, ids=["landscape", "portrait"])
def test_sam_box_prompt_cuts_out_what_is_red_inside_the_box(
    tmp_path: Path, models: Path, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    spec = register_sam(models, monkeypatch, draw="box", red_only=True)
    profile = make_profile(model=spec.name, prompt={"box": [0.1, 0.2, 0.5, 0.9]},
                           backdrop="transparent")

    alpha = cut_out(sam_photo(tmp_path, size), profile, tmp_path / "out")

    # the red subject spans x 0.2-0.8 and y 0.3-0.7; the box keeps x 0.1-0.5 of it. Swapped
    # x/y would keep y 0.3-0.5; coordinates not scaled like the letterbox a smaller part.
    assert alpha.shape == (size[1], size[0])
    assert_box(alpha, (0.2, 0.3, 0.5, 0.7), size)


@pytest.mark.parametrize("size", SIZES, ids=["landscape", "portrait"])
def test_sam_point_prompt_lands_where_the_point_is(
    tmp_path: Path, models: Path, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    spec = register_sam(models, monkeypatch, draw="point")
    profile = make_profile(model=spec.name, prompt={"points": [[0.25, 0.75, 1]]},
                           backdrop="transparent")

    alpha = cut_out(sam_photo(tmp_path, size), profile, tmp_path / "out")

    w, h = size
    scale = min(SAM_FRAME[1] / w, SAM_FRAME[0] / h)
    half = 40 / scale  # the decoder's 40 px, in photo pixels
    expected = ((0.25 * w - half) / w, (0.75 * h - half) / h,
                (0.25 * w + half) / w, (0.75 * h + half) / h)
    assert_box(alpha, expected, size)


def test_sam_auto_prompt_boxes_the_first_pass_mask(
    tmp_path: Path, models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_md5 = saliency_graph(models / "first.onnx", size=(320, 320), input_name="input.1",
                               outputs=U2NET_OUTPUTS)
    first = register(monkeypatch, "u2net", "first.onnx", first_md5)  # keeps what is red
    spec = register_sam(models, monkeypatch, draw="box")  # draws the box, whatever is in it
    profile = make_profile(model=spec.name, prompt={"auto": True, "first_pass": first.name},
                           backdrop="transparent")

    alpha = cut_out(sam_photo(tmp_path, (400, 300), ellipse=True), profile, tmp_path / "out")

    # the box around the red ellipse, corners included: the prompt came from the first pass
    assert_box(alpha, SUBJECT, (400, 300))


def test_sam_without_a_prompt_asks_u2netp_for_the_box(
    models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = register_sam(models, monkeypatch, draw="box")

    model = predict.open_model(registry.Request(spec))

    assert isinstance(model, SamModel)
    assert model.prompt == Prompt(auto=True)
    assert model.input_size == (1024, 684)  # read from the encoder's input
    assert model._first_pass is not None and model._first_pass.name == "u2netp"


def test_sam_decoder_gets_the_published_inputs(
    models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = register_sam(models, monkeypatch, draw="box")
    loaded = predict.open_model(registry.Request(spec, prompt=Prompt(box=(0.1, 0.2, 0.5, 0.9))))
    assert isinstance(loaded, SamModel)
    encoder, decoder = Recording(loaded._encoder), Recording(loaded._decoder)
    prompt = Prompt(box=(0.1, 0.2, 0.5, 0.9), points=((0.3, 0.4, 1), (0.6, 0.5, 0)))
    model = SamModel(spec, encoder, decoder, prompt, None)
    pixels = np.zeros((300, 400, 3), dtype=np.uint8)
    pixels[:, :, 0] = 255

    mask = model.predict(pixels)

    scale = 684 / 300
    [image] = encoder.feeds
    letterbox = image["input_image"]
    assert letterbox.shape == (684, 1024, 3) and letterbox.dtype == np.float32
    assert (letterbox[:, :912, 0] == 255).all() and (letterbox[:, 912:] == 0).all()
    [feed] = decoder.feeds
    expected = np.array([[[0.3 * 400, 0.4 * 300], [0.6 * 400, 0.5 * 300],
                          [0.1 * 400, 0.2 * 300], [0.5 * 400, 0.9 * 300]]]) * scale
    assert feed["point_coords"].dtype == np.float32
    assert np.allclose(feed["point_coords"][:, :4], expected, atol=1e-3)
    assert np.array_equal(feed["point_coords"][0, 4], [0.0, 0.0])  # the padding point
    assert np.array_equal(feed["point_labels"], [[1, 0, 2, 3, -1]])
    assert feed["mask_input"].shape == (1, 1, 256, 256) and not feed["mask_input"].any()
    assert np.array_equal(feed["has_mask_input"], [0.0])
    assert np.array_equal(feed["orig_im_size"], [684.0, 1024.0])
    assert feed["image_embeddings"].shape == (1, 3, 684, 1024)
    assert mask.shape == (684, 912) and mask.dtype == np.float32


def test_sam_without_any_prompt_point_is_a_model_error(
    models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = register_sam(models, monkeypatch, draw="box")
    loaded = predict.open_model(registry.Request(spec, prompt=Prompt(box=(0, 0, 1, 1))))
    assert isinstance(loaded, SamModel)
    model = SamModel(spec, loaded._encoder, loaded._decoder, Prompt(), None)

    with pytest.raises(ModelError, match="needs a prompt"):
        model.predict(np.zeros((30, 40, 3), dtype=np.uint8))


def test_sam_weights_must_all_be_installed(
    models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = register_sam(models, monkeypatch, draw="box")
    (models / "test-sam.decoder.onnx").unlink()

    with pytest.raises(ModelError) as caught:
        predict.open_model(registry.Request(spec, prompt=Prompt(auto=True)))

    assert "model 'test-sam-vit-b' is not installed" in str(caught.value)
    assert "test-sam.decoder.onnx" in str(caught.value)
