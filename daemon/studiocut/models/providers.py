"""providers: which ONNX Runtime execution provider runs a model, chosen in one place.

``device: auto`` tries the GPU providers this onnxruntime build has, best first, and falls
back to the CPU. After a session opens we read back the provider it *actually* runs on (ONNX
Runtime silently falls back to the CPU when a GPU provider fails to load) and log it, so a GPU
that is not used is never a mystery; ``require_gpu: true`` turns that fallback into an error.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studiocut.errors import ModelError

log = logging.getLogger(__name__)

DEVICES: dict[str, tuple[str, ...]] = {
    "cpu": ("CPUExecutionProvider",),
    "cuda": ("CUDAExecutionProvider",),
    "tensorrt": ("TensorrtExecutionProvider", "CUDAExecutionProvider"),
    "directml": ("DmlExecutionProvider",),
    "coreml": ("CoreMLExecutionProvider",),
    "rocm": ("MIGraphXExecutionProvider", "ROCMExecutionProvider"),
    "openvino": ("OpenVINOExecutionProvider",),
}
# ``auto``: best first. TensorRT only when asked for: building its engines takes minutes.
AUTO_ORDER = ("CUDAExecutionProvider", "MIGraphXExecutionProvider", "ROCMExecutionProvider",
              "DmlExecutionProvider", "CoreMLExecutionProvider", "OpenVINOExecutionProvider")
CPU = "CPUExecutionProvider"
DEVICE_CHOICES = ("auto", *DEVICES)


@dataclass(frozen=True)
class Placement:
    """Where a profile wants its model to run."""

    device: str = "auto"
    require_gpu: bool = False
    threads: int = 0  # CPU intra-op threads; 0 lets the daemon decide
    options: dict[str, dict[str, Any]] = field(default_factory=dict)  # per provider, overrides
    cache_dir: Path | None = None  # TensorRT engine cache


def available() -> list[str]:
    """The providers this onnxruntime build offers."""
    import onnxruntime as ort

    return list(ort.get_available_providers())


def choose(device: str, offered: list[str]) -> list[str]:
    """Return the providers to try, in order, ending with the CPU; raise ModelError when an
    explicitly named device is not in this onnxruntime build."""
    if device == "auto":
        return [p for p in AUTO_ORDER if p in offered] + [CPU]
    if device == "cpu":
        return [CPU]
    wanted = [p for p in DEVICES[device] if p in offered]
    if not wanted:
        raise ModelError(
            f"device '{device}' needs {' or '.join(DEVICES[device])}, which this onnxruntime "
            f"build does not have (it offers: {', '.join(offered)}); {install_hint(device)}")
    return [*wanted, CPU]


def install_hint(device: str) -> str:
    return {
        "cuda": "install studiocut[cuda] (onnxruntime-gpu) and uninstall plain onnxruntime",
        "tensorrt": "install studiocut[cuda] (onnxruntime-gpu) with TensorRT libraries",
        "directml": "install onnxruntime-directml (the default on Windows)",
        "coreml": "use the standard onnxruntime wheel on macOS",
        "rocm": "install the onnxruntime build for ROCm from AMD",
        "openvino": "install studiocut[openvino] (onnxruntime-openvino)",
    }.get(device, "check the onnxruntime package")


def provider_options(provider: str, placement: Placement) -> dict[str, Any]:
    """Sensible options for each provider, overridden by the profile's."""
    table: dict[str, dict[str, Any]] = {
        "CUDAExecutionProvider": {"arena_extend_strategy": "kSameAsRequested",
                                  "cudnn_conv_algo_search": "HEURISTIC"},
        "TensorrtExecutionProvider": {"trt_fp16_enable": True,
                                      "trt_engine_cache_enable": True},
        "OpenVINOExecutionProvider": {"device_type": "AUTO"},
    }
    options = dict(table.get(provider, {}))
    if provider == "TensorrtExecutionProvider" and placement.cache_dir is not None:
        options["trt_engine_cache_path"] = str(placement.cache_dir)
    options.update(placement.options.get(provider, {}))
    return options


def session_options(providers: list[str], threads: int) -> Any:
    """ONNX Runtime session options for a provider list (DirectML needs sequential
    execution and no memory pattern; the CPU is better off without it too)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    if "DmlExecutionProvider" in providers or providers[0] == CPU:
        # DirectML requires it; on the CPU the pattern holds ~200 MB more for no speed
        # (u2netp: 461 MB vs 294 MB of arena, 232 vs 229 ms a run, measured here)
        options.enable_mem_pattern = False
    # between runs the intra-op threads sleep instead of spinning on the cores that the
    # workers' decoding and encoding need
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


class Session:
    """An InferenceSession that runs one inference at a time, on every core (intra-op
    threads). Workers overlap their decoding and encoding with the run in progress. Runs at
    once would buy nothing (the cores are already busy) and cost memory: ONNX Runtime's CPU
    arena keeps a run's largest buffers for each concurrent run (u2netp: about 270 MB)."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self._lock = threading.Lock()
        self._on_cpu = session.get_providers()[0] == CPU

    def run(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            started = time.perf_counter()
            try:
                return self._session.run(*args, **kwargs)
            finally:
                if self._on_cpu:
                    _ran.seconds = inference_seconds() + time.perf_counter() - started

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


_ran = threading.local()


def inference_seconds() -> float:
    """The wall seconds that this thread's inference runs on the CPU, on every core, have
    taken so far: ONNX Runtime's runs alone, not the waits for a run in progress, nor the
    pre- and postprocessing around them, which take one core as a decode does, nor runs on
    a GPU, which leave the cores free however long they take."""
    return float(getattr(_ran, "seconds", 0.0))


def open_session(path: Path, placement: Placement, *, what: str) -> Any:
    """Open an InferenceSession for ``path`` as ``placement`` says; log the provider it
    really runs on; raise ModelError when ``require_gpu`` and it landed on the CPU."""
    import onnxruntime as ort

    offered = available()
    providers = choose(placement.device, offered)
    options = session_options(providers, placement.threads)
    pairs = [(p, provider_options(p, placement)) for p in providers]
    try:
        session = ort.InferenceSession(str(path), options, providers=pairs)
    except Exception as e:  # onnxruntime raises its own exception types for bad graphs
        raise ModelError(f"{path}: onnxruntime cannot load this model: {e}") from e
    actual = session.get_providers()[0]
    if placement.require_gpu and actual == CPU:
        raise ModelError(
            f"{what}: require_gpu is set but the model runs on the CPU (asked for device "
            f"'{placement.device}'; this onnxruntime offers {', '.join(offered)}); "
            f"{install_hint(placement.device if placement.device != 'auto' else 'cuda')}")
    # what the profile asked for, even when this build lacks it (tensorrt -> CUDA only)
    wanted = DEVICES[placement.device][0] if placement.device != "auto" else providers[0]
    if actual != wanted:
        log.warning("%s: %s could not be used; running on %s", what, wanted, actual)
    log.info("%s runs on %s (%s)", what, actual, describe(actual))
    return Session(session)


def describe(provider: str) -> str:
    """A few words on the hardware behind a provider, where onnxruntime exposes them."""
    try:
        import onnxruntime as ort

        for device in ort.get_ep_devices():
            if device.ep_name == provider:
                hw = device.device
                name = hw.metadata.get("Description") or hw.metadata.get("DeviceName") or ""
                kind = str(hw.type).rsplit(".", 1)[-1]
                return " ".join(part for part in (hw.vendor, name, kind) if part)
    except (AttributeError, RuntimeError):  # older onnxruntime: no device enumeration
        pass
    return "device details not exposed by this onnxruntime"
