"""sam: Segment Anything end to end on the tiny encoder and decoder graphs of onnx_graphs,
registered as a model of their own: what each prompt cuts out, and the decoder's inputs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import make_profile
from onnx_graphs import (
    SAM_FRAME,
    U2NET_OUTPUTS,
    Recording,
    cut_out,
    register,
    saliency_graph,
    sam_decoder,
    sam_encoder,
)
from studiocut.errors import ModelError
from studiocut.models import predict, registry
from studiocut.models.download import Artifact
from studiocut.models.registry import ModelSpec, Prompt
from studiocut.models.sam import SamModel

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # e.g. overflow in exp


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
