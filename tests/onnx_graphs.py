"""Tiny ONNX graphs with the real signatures of each model family, for tests and benchmarks,
and the helpers that register one as a model of its own and cut a photo out with it.

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
import onnx
import pytest
from onnx import TensorProto, helper
from PIL import Image

from studiocut.imaging import pipeline
from studiocut.models import predict
from studiocut.models.registry import MODELS, ModelSpec
from studiocut.profiles import Profile

OPSET = 17
SAM_FRAME = (684, 1024)  # (h, w) of the published encoder's input
U2NET_OUTPUTS = ["1959", "1960", "1961", "1962", "1963", "1964", "1965"]  # as in u2netp.onnx


# --------------------------------------------------------------------------- graph building


def value(name: str, dims: Sequence[int | str], dtype: int = TensorProto.FLOAT) -> Any:
    return helper.make_tensor_value_info(name, dtype, list(dims))


def ints(name: str, values: Sequence[int]) -> Any:
    return helper.make_tensor(name, TensorProto.INT64, [len(values)], list(values))


def scalar(name: str, number: float | int) -> Any:
    if isinstance(number, int):
        return helper.make_tensor(name, TensorProto.INT64, [], [number])
    return helper.make_tensor(name, TensorProto.FLOAT, [], [number])


def write(path: Path, nodes: list[Any], inputs: list[Any], outputs: list[Any],
          constants: list[Any]) -> str:
    """Save a checked opset-17 model to ``path``; return its md5."""
    graph = helper.make_graph(nodes, path.stem, inputs, outputs, initializer=constants)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="studiocut-tests")
    model.ir_version = 8  # what every supported onnxruntime reads
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))
    return hashlib.md5(path.read_bytes()).hexdigest()


def saliency_graph(path: Path, *, size: tuple[int, int], input_name: str,
                   outputs: Sequence[str], gain: float | None = None) -> str:
    """1x3xHxW in; the first output is 1x1xHxW: ReLU(red) without ``gain``, else the logits
    ``gain * red``; every further output is -red."""
    w, h = size
    nodes = [helper.make_node("Slice", [input_name, "zero", "one", "one"], ["red"])]
    if gain is None:
        nodes.append(helper.make_node("Relu", ["red"], [outputs[0]]))
    else:
        nodes.append(helper.make_node("Mul", ["red", "gain"], [outputs[0]]))
    nodes += [helper.make_node("Neg", ["red"], [name]) for name in outputs[1:]]
    return write(path, nodes, [value(input_name, [1, 3, h, w])],
                 [value(name, [1, 1, h, w]) for name in outputs],
                 [ints("zero", [0]), ints("one", [1]), scalar("gain", float(gain or 1.0))])


def sam_encoder(path: Path) -> str:
    """(684, 1024, 3) float32 pixels in; the pixels as 1x3x684x1024 "image_embeddings"."""
    h, w = SAM_FRAME
    nodes = [helper.make_node("Transpose", ["input_image"], ["chw"], perm=[2, 0, 1]),
             helper.make_node("Unsqueeze", ["chw", "axis0"], ["image_embeddings"])]
    return write(path, nodes, [value("input_image", [h, w, 3])],
                 [value("image_embeddings", [1, 3, h, w])], [ints("axis0", [0])])


def sam_decoder(path: Path, *, draw: str, red_only: bool = False) -> str:
    """The published decoder's inputs and outputs. ``masks`` (logits over an orig_im_size
    grid of pixel indices) is positive inside the box spanned by the first two points
    (``draw="box"``) or within 40 px (Chebyshev) of the first point (``draw="point"``);
    ``red_only`` also needs the image's red above 128 there."""
    h, w = SAM_FRAME
    n = helper.make_node
    nodes = [
        n("Gather", ["orig_im_size", "i0"], ["h"]), n("Gather", ["orig_im_size", "i1"], ["w"]),
        n("Range", ["f0", "h", "f1"], ["ys"]), n("Range", ["f0", "w", "f1"], ["xs"]),
        n("Reshape", ["ys", "column"], ["Y"]), n("Reshape", ["xs", "row"], ["X"]),
        n("Reshape", ["point_coords", "flat"], ["coords"]),
        n("Gather", ["coords", "i0"], ["x0"]), n("Gather", ["coords", "i1"], ["y0"]),
        n("Gather", ["coords", "i2"], ["x1"]), n("Gather", ["coords", "i3"], ["y1"]),
        n("ReduceSum", ["point_labels"], ["label_sum"], keepdims=1),
        n("Add", ["label_sum", "has_mask_input"], ["scores"]),
        n("Identity", ["mask_input"], ["low_res_masks"]),
    ]
    if draw == "box":
        nodes += [n("Sub", ["X", "x0"], ["left"]), n("Sub", ["x1", "X"], ["right"]),
                  n("Sub", ["Y", "y0"], ["top"]), n("Sub", ["y1", "Y"], ["bottom"]),
                  n("Min", ["left", "right", "top", "bottom"], ["shape"])]
    else:
        nodes += [n("Sub", ["X", "x0"], ["dx"]), n("Abs", ["dx"], ["adx"]),
                  n("Sub", ["Y", "y0"], ["dy"]), n("Abs", ["dy"], ["ady"]),
                  n("Max", ["adx", "ady"], ["distance"]), n("Sub", ["f40", "distance"], ["shape"])]
    if red_only:
        nodes += [n("Slice", ["image_embeddings", "zero", "one", "one"], ["red"]),
                  n("Sub", ["red", "f128"], ["redness"]),
                  n("Min", ["shape", "redness"], ["masks"])]
    else:
        nodes.append(n("Identity", ["shape"], ["masks"]))
    inputs = [value("image_embeddings", [1, 3, h, w]), value("point_coords", [1, "n", 2]),
              value("point_labels", [1, "n"]), value("mask_input", [1, 1, 256, 256]),
              value("has_mask_input", [1]), value("orig_im_size", [2])]
    outputs = [value("masks", [1, 1, h, w]), value("scores", [1, 1]),
               value("low_res_masks", [1, 1, 256, 256])]
    constants = [scalar("i0", 0), scalar("i1", 1), scalar("i2", 2), scalar("i3", 3),
                 scalar("f0", 0.0), scalar("f1", 1.0), scalar("f40", 40.0),
                 scalar("f128", 128.0), ints("column", [1, 1, -1, 1]),
                 ints("row", [1, 1, 1, -1]), ints("flat", [-1]), ints("zero", [0]),
                 ints("one", [1])]
    return write(path, nodes, inputs, outputs, constants)


class Recording:
    """Wraps a session and keeps the inputs of each run."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.feeds: list[dict[str, np.ndarray]] = []

    def get_inputs(self) -> Any:
        return self.session.get_inputs()

    def get_providers(self) -> Any:
        return self.session.get_providers()

    def run(self, names: Any, feed: dict[str, np.ndarray]) -> Any:
        self.feeds.append(feed)
        return self.session.run(names, feed)


# --------------------------------------------------------------------------- as models


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
