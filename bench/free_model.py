"""A free model: an ONNX graph with u2netp's input and output shapes (or a square of another
side, as IS-Net's and BiRefNet's 1024 px) that costs next to nothing, so a benchmark
measures the pipeline's own rate, what a station whose GPU runs the model in a few
milliseconds would see.

The graph finds the subject as a model would, only crudely: a pixel is subject where its
colour (normalised as the model's input is) differs from the frame's top-left pixel, the
backdrop's, by more than a threshold, with a ramp of soft alpha. On the benchmark's synthetic
photos (a subject on a light seamless backdrop) that gives a mask with the subject's shape and
soft edges, so framing, matting and decontamination do the work they would do.

It runs through studiocut's own session code: the profile names it as a studio's own export
(``model: {path: free.onnx}``), opened by ``models.predict`` like any other.
"""

from __future__ import annotations

from pathlib import Path

import onnx
import yaml
from onnx import TensorProto, helper

from studiocut import profiles

SIZE = 320  # u2netp's input and output side, the default
THRESHOLD = 1.2  # summed |difference| over R, G, B, in the input's normalised units
GAIN = 2.0  # alpha rises from 0 to 1 over 1 / GAIN units above the threshold


def write_graph(path: Path, size: int = SIZE) -> Path:
    """Write the free model to ``path`` (1x3xNxN in, 1x1xNxN alpha out, N = ``size``)."""
    n = helper.make_node
    nodes = [
        n("Slice", ["input", "corner_start", "corner_end"], ["corner"]),
        n("Sub", ["input", "corner"], ["difference"]),
        n("Abs", ["difference"], ["distance"]),
        n("ReduceSum", ["distance", "channels"], ["summed"], keepdims=1),
        n("Sub", ["summed", "threshold"], ["above"]),
        n("Mul", ["above", "gain"], ["ramp"]),
        n("Clip", ["ramp", "zero", "one"], ["alpha"]),
    ]
    constants = [
        helper.make_tensor("corner_start", TensorProto.INT64, [4], [0, 0, 0, 0]),
        helper.make_tensor("corner_end", TensorProto.INT64, [4], [1, 3, 1, 1]),
        helper.make_tensor("channels", TensorProto.INT64, [1], [1]),
        helper.make_tensor("threshold", TensorProto.FLOAT, [], [THRESHOLD]),
        helper.make_tensor("gain", TensorProto.FLOAT, [], [GAIN]),
        helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
        helper.make_tensor("one", TensorProto.FLOAT, [], [1.0]),
    ]
    graph = helper.make_graph(
        nodes, "free", [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                      [1, 3, size, size])],
        [helper.make_tensor_value_info("alpha", TensorProto.FLOAT, [1, 1, size, size])],
        initializer=constants)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="studiocut-bench")
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def free_profile(profile: profiles.Profile, source: str, folder: Path, size: int = SIZE) -> Path:
    """Write a copy of the profile ``source`` (a .yaml path, or a built-in name) into
    ``folder`` with the free model of ``size`` px in place of its own; return its path."""
    graph = write_graph(folder / f"free-{size}.onnx", size)
    if source.endswith((".yaml", ".yml")):
        settings = yaml.safe_load(Path(source).read_text(encoding="utf-8")) or {}
    else:  # the built-in default
        settings = {"backdrop": _colour(profile), "square": profile.square is not None,
                    "format": profile.encoding.format}
    settings["model"] = {"path": str(graph), "input_size": [size, size]}
    path = folder / (f"free-{profile.name}.yaml" if size == SIZE else
                     f"free{size}-{profile.name}.yaml")
    path.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return path


def _colour(profile: profiles.Profile) -> str:
    if profile.backdrop is None:
        return "transparent"
    return "#{:02x}{:02x}{:02x}".format(*profile.backdrop)
