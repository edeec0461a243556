"""predict: the model registry, its checks on weights files, and the models themselves.

Tests marked ``realmodel`` run the embedded u2netp weights (about 0.3 s an inference)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from conftest import make_profile
from studiocut.errors import ModelError
from studiocut.imaging import pipeline
from studiocut.models import predict
from studiocut.models.key import BackdropKey
from studiocut.models.registry import MODELS, MaskModel, ModelSpec
from studiocut.models.saliency import OnnxSaliencyModel

U2NETP = MODELS["u2netp"]

# --------------------------------------------------------------------------- registry


def test_unknown_model_is_a_model_error_listing_the_known_names() -> None:
    with pytest.raises(ModelError) as caught:
        predict.load("u2netq")
    message = str(caught.value)
    assert "'u2netq'" in message
    for name in ("u2netp", "isnet-general-use", "birefnet-general", "backdrop-key"):
        assert name in message


UNPINNED = {"bria-rmbg-2.0"}  # no public checksum is published for these weights


def test_every_registered_model_has_a_file_and_a_checksum_unless_it_needs_no_weights() -> None:
    for name, spec in MODELS.items():
        assert spec.name == name
        if spec.family == "key":
            continue
        for artifact in spec.artifacts:
            assert artifact.file.endswith(".onnx")
            assert len(artifact.md5) == 32 or name in UNPINNED


def test_non_commercial_weights_say_so_in_the_registry() -> None:
    assert not MODELS["bria-rmbg-2.0"].commercial
    assert "non-commercial" in MODELS["bria-rmbg-2.0"].licence
    assert all(spec.commercial for name, spec in MODELS.items() if name != "bria-rmbg-2.0")


def damaged_copy(folder: Path, name: str) -> Path:
    """A copy of the u2netp weights with one byte changed."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    shutil.copyfile(predict.weights_path(U2NETP), path)
    with path.open("r+b") as f:
        f.seek(1_000_000)
        byte = f.read(1)
        f.seek(1_000_000)
        f.write(bytes([byte[0] ^ 0x01]))
    return path


def test_verify_accepts_the_embedded_weights() -> None:
    predict.verify(U2NETP, predict.weights_path(U2NETP))


def test_verify_refuses_a_damaged_weights_file_naming_the_checksum(tmp_path: Path) -> None:
    path = damaged_copy(tmp_path, "u2netp.onnx")

    with pytest.raises(ModelError) as caught:
        predict.verify(U2NETP, path)

    message = str(caught.value)
    assert "sha256 checksum mismatch" in message
    assert str(path) in message and "u2netp" in message
    assert U2NETP.sha256 in message


def test_verify_falls_back_to_md5_when_no_sha256_is_registered(tmp_path: Path) -> None:
    path = damaged_copy(tmp_path, "u2netp.onnx")
    spec = ModelSpec("u2netp-md5", "u2net", "u2netp.onnx", md5=U2NETP.md5)

    with pytest.raises(ModelError, match="md5 checksum mismatch"):
        predict.verify(spec, path)
    predict.verify(spec, predict.weights_path(U2NETP))  # the intact file passes


def test_load_refuses_damaged_downloaded_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    damaged_copy(tmp_path / "models", "u2netp-copy.onnx")
    spec = ModelSpec("u2netp-copy", "u2net", "u2netp-copy.onnx", U2NETP.md5)
    monkeypatch.setenv("STUDIOCUT_MODELS", str(tmp_path / "models"))
    monkeypatch.setitem(MODELS, spec.name, spec)

    with pytest.raises(ModelError, match="md5 checksum mismatch for model 'u2netp-copy'"):
        predict.load(spec.name)


def test_load_of_a_missing_weights_file_says_where_to_put_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDIOCUT_MODELS", str(tmp_path / "models"))

    with pytest.raises(ModelError) as caught:
        predict.load("u2net")

    message = str(caught.value)
    assert "not installed" in message
    assert "u2net.onnx" in message and str(tmp_path / "models") in message


# --------------------------------------------------------------------------- backdrop key


def test_backdrop_key_separates_a_subject_from_a_green_screen() -> None:
    pixels = np.empty((150, 200, 3), dtype=np.uint8)
    pixels[:] = (20, 170, 60)
    pixels[40:110, 60:140] = (150, 110, 80)  # a brown box
    pixels[60:90, 80:120] = (245, 245, 240)  # with a white label
    truth = np.zeros((150, 200), dtype=bool)
    truth[40:110, 60:140] = True

    mask = predict.load("backdrop-key").predict(pixels)

    assert mask.shape == (150, 200)
    assert mask.min() >= 0.0 and mask.max() <= 1.0
    assert mask[truth].min() > 0.99
    assert mask[~truth].max() < 0.01


def test_backdrop_key_works_on_a_reduced_copy_of_a_large_frame() -> None:
    pixels = np.empty((300, 400, 3), dtype=np.uint8)
    pixels[:] = (20, 170, 60)
    pixels[100:200, 150:250] = (200, 40, 40)

    mask = BackdropKey(work=100).predict(pixels)

    assert mask.shape == (75, 100)  # the model's own resolution; the frame is the same
    assert mask[30:45, 42:58].min() > 0.99
    assert mask[:20].max() < 0.01


# --------------------------------------------------------------------------- postprocess


class StubSession:
    """Just enough of an onnxruntime session to build a model around."""

    class Input:
        name = "input.1"

    def get_inputs(self) -> list[StubSession.Input]:
        return [self.Input()]


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
