"""saliency: the one-image-in, one-map-out families (u2net, isnet, birefnet, bria and a
studio's own export): their pre- and postprocessing, end to end on the tiny graphs of
onnx_graphs registered as models of their own, and on the real u2netp weights.

Tests marked ``realmodel`` run the embedded u2netp weights (about 0.3 s an inference)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw

from conftest import make_profile
from onnx_graphs import U2NET_OUTPUTS, cut_out, register, saliency_graph
from studiocut.errors import ModelError
from studiocut.imaging import pipeline
from studiocut.models import predict, registry
from studiocut.models.registry import MODELS, MaskModel
from studiocut.models.saliency import OnnxSaliencyModel
from studiocut.profiles import Profile

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # e.g. overflow in exp

U2NETP = MODELS["u2netp"]


# --------------------------------------------------------------------------- postprocess


class StubSession:
    """Just enough of an onnxruntime session to build a model around."""

    class Input:
        name = "input.1"

    def get_inputs(self) -> list[StubSession.Input]:
        return [self.Input()]


def interleaved_tensor(pixels: np.ndarray, spec: registry.ModelSpec) -> np.ndarray:
    """The input tensor made the plain way: Lanczos resize, then the image's h x w x 3 float32
    pixels scaled by their maximum, normalised by mean and std, and transposed."""
    small = np.asarray(Image.fromarray(pixels).resize(spec.input_size, Image.Resampling.LANCZOS),
                       dtype=np.float32)
    top = float(small.max())
    small /= top if top > 0 else 1.0
    small -= np.asarray(spec.mean, dtype=np.float32)
    small /= np.asarray(spec.std, dtype=np.float32)
    return np.ascontiguousarray(small.transpose(2, 0, 1)[np.newaxis])


@pytest.mark.parametrize("name", ["u2netp", "isnet-general-use", "birefnet-general"])
@pytest.mark.parametrize("brightest", [0, 1, 200, 255])
def test_preprocess_gives_the_bits_of_the_plain_recipe(name: str, brightest: int) -> None:
    spec = MODELS[name]  # 320 px, ImageNet's mean and std; 1024 px, 0.5 and 1.0; 1024 px
    model = OnnxSaliencyModel(spec, StubSession())
    rng = np.random.default_rng(brightest)
    pixels = rng.integers(0, brightest + 1, size=(310, 470, 3), dtype=np.uint8)

    tensor = model.preprocess(pixels)

    assert tensor.shape == (1, 3, spec.input_size[1], spec.input_size[0])
    assert tensor.dtype == np.float32 and tensor.flags.c_contiguous
    assert np.array_equal(tensor, interleaved_tensor(pixels, spec))


def test_preprocess_refuses_pixels_that_are_not_three_channels() -> None:
    model = OnnxSaliencyModel(U2NETP, StubSession())
    with pytest.raises(ValueError, match=r"H x W x 3"):
        model.preprocess(np.zeros((40, 60), dtype=np.uint8))


def test_postprocess_min_max_normalises_the_first_channel_of_the_first_output() -> None:
    model = OnnxSaliencyModel(U2NETP, StubSession())
    output = np.zeros((1, 2, 3, 4), dtype=np.float32)
    output[0, 0] = np.arange(12, dtype=np.float32).reshape(3, 4) * 0.5 + 2.0
    output[0, 1] = 100.0  # other side outputs must be ignored

    mask = model.postprocess(output)

    assert mask.shape == (3, 4) and mask.dtype == np.float32
    assert np.allclose(mask, np.arange(12).reshape(3, 4) / 11.0)


def test_postprocess_of_logits_applies_a_sigmoid_before_normalising() -> None:
    model = OnnxSaliencyModel(MODELS["birefnet-general"], StubSession())
    logits = np.array([[[[-4.0, 0.0, 1.0, 4.0]]]], dtype=np.float32)

    mask = model.postprocess(logits)

    sig = 1 / (1 + np.exp(-logits[0, 0]))
    assert np.allclose(mask, (sig - sig.min()) / (sig.max() - sig.min()), atol=1e-6)
    assert not np.allclose(mask, (logits[0, 0] + 4) / 8)  # not a plain min-max


def test_postprocess_of_a_flat_output_is_an_empty_mask() -> None:
    model = OnnxSaliencyModel(U2NETP, StubSession())
    assert not model.postprocess(np.full((1, 1, 4, 4), 3.0, dtype=np.float32)).any()


# --------------------------------------------------------------------------- families


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


# --------------------------------------------------------------------------- real model


def rembg_normalize(image: Image.Image) -> np.ndarray:
    """rembg's published preprocessing for the U^2-Net family, written out independently."""
    im = image.convert("RGB").resize((320, 320), Image.Resampling.LANCZOS)
    ary = np.array(im)
    ary = ary / max(np.max(ary), 1e-6)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    tmp = np.zeros((ary.shape[0], ary.shape[1], 3))
    for c in range(3):
        tmp[:, :, c] = (ary[:, :, c] - mean[c]) / std[c]
    return np.expand_dims(tmp.transpose((2, 0, 1)), 0).astype(np.float32)


def dim_photo() -> np.ndarray:
    """A non-square shot whose brightest value is 200, so scaling by the maximum matters."""
    yy, xx = np.mgrid[0:180, 0:250]
    pixels = np.stack([100 + xx * 0.4, 120 + yy * 0.3, np.full(xx.shape, 140.0)], axis=2)
    pixels[50:130, 80:170] = (200, 20, 60)
    return pixels.astype(np.uint8)


def bottle_photo() -> tuple[Image.Image, np.ndarray]:
    """A blue bottle with a dark cap on a light seamless backdrop, and its true mask."""
    image = Image.new("RGB", (400, 300), (236, 236, 232))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((160, 110, 240, 270), radius=18, fill=(20, 120, 200))
    draw.rectangle((185, 50, 215, 115), fill=(20, 120, 200))
    draw.rectangle((180, 40, 220, 60), fill=(30, 30, 30))
    truth = np.abs(np.asarray(image).astype(int) - (236, 236, 232)).sum(axis=2) > 30
    return image, truth


@pytest.fixture(scope="module")
def u2netp() -> MaskModel:
    return predict.load("u2netp")


@pytest.mark.realmodel
def test_u2netp_preprocessing_equals_rembgs(u2netp: MaskModel) -> None:
    assert isinstance(u2netp, OnnxSaliencyModel)
    pixels = dim_photo()

    tensor = u2netp.preprocess(pixels)

    expected = rembg_normalize(Image.fromarray(pixels))
    assert tensor.shape == (1, 3, 320, 320) and tensor.dtype == np.float32
    assert tensor.flags.c_contiguous
    assert np.allclose(tensor, expected, atol=1e-5)


@pytest.mark.realmodel
def test_u2netp_mask_is_the_first_outputs_first_channel_min_max_normalised(
    u2netp: MaskModel,
) -> None:
    import onnxruntime as ort

    pixels = dim_photo()
    session = ort.InferenceSession(str(predict.weights_path(U2NETP)),
                                   providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    raw = session.run(None, {name: rembg_normalize(Image.fromarray(pixels))})[0][:, 0]
    expected = (raw - raw.min()) / (raw.max() - raw.min())

    mask = u2netp.predict(pixels)

    assert mask.shape == (320, 320) and mask.dtype == np.float32
    assert np.allclose(mask, expected[0], atol=1e-4)
    assert mask.min() == 0.0 and mask.max() == pytest.approx(1.0)


@pytest.mark.realmodel
def test_u2netp_cuts_out_a_product_photo_end_to_end(
    u2netp: MaskModel, tmp_path: Path
) -> None:
    image, truth = bottle_photo()
    source = tmp_path / "bottle.jpg"
    image.save(source, quality=95)
    out = tmp_path / "out"
    out.mkdir()

    outcome = pipeline.process(source, u2netp, make_profile(backdrop="transparent"),
                               output_root=out)

    assert outcome.ok, outcome.message
    with Image.open(outcome.output) as result:  # type: ignore[arg-type]
        alpha = np.asarray(result)[..., 3]
    solid = alpha > 128
    iou = (solid & truth).sum() / (solid | truth).sum()
    assert iou >= 0.9  # measured: 0.999
    assert (alpha[[0, 0, -1, -1], [0, -1, 0, -1]] == 0).all()
    assert np.percentile(alpha[truth], 1) > 128 and np.percentile(alpha[~truth], 99) < 64


@pytest.mark.realmodel
def test_u2netp_square_framing_centres_the_product(
    u2netp: MaskModel, tmp_path: Path
) -> None:
    image, _ = bottle_photo()
    source = tmp_path / "bottle.png"
    image.save(source)
    out = tmp_path / "out"
    out.mkdir()

    outcome = pipeline.process(source, u2netp, make_profile(square={"size": 300}),
                               output_root=out)

    assert outcome.ok, outcome.message
    with Image.open(outcome.output) as result:  # type: ignore[arg-type]
        pixels = np.asarray(result)
    assert pixels.shape == (300, 300, 3)
    assert (pixels[[0, 0, -1, -1], [0, -1, 0, -1]] >= 250).all()
    ys, xs = np.nonzero(np.abs(pixels.astype(int) - 255).sum(axis=2) > 60)
    # an 80 x 230 bottle fills the 270 px between the 15 px margins: about 94 x 270
    assert 255 <= ys.max() + 1 - ys.min() <= 272
    assert abs((xs.min() + xs.max() + 1) / 2 - 150) <= 3
    assert abs((ys.min() + ys.max() + 1) / 2 - 150) <= 3
