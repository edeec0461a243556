"""providers: which onnxruntime execution provider a model runs on, chosen in one place.

onnxruntime's provider list and its InferenceSession are replaced by fakes, so every GPU
build can be played on a machine without a GPU: ``offered`` is what the build lists, and
``lands_on`` is the provider the session reports after loading (onnxruntime falls back to
the CPU silently when a GPU provider fails to load)."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import onnxruntime as ort
import pytest

from conftest import make_profile
from studiocut.errors import ModelError
from studiocut.models import predict, providers, registry
from studiocut.models.providers import AUTO_ORDER, CPU, DEVICES, Placement

ALL_GPUS = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "MIGraphXExecutionProvider",
            "ROCMExecutionProvider", "DmlExecutionProvider", "CoreMLExecutionProvider",
            "OpenVINOExecutionProvider"]


class FakeOnnxruntime:
    """Records every session opened: the providers with their options, the session options."""

    def __init__(self) -> None:
        self.offered: list[str] = [CPU]
        self.lands_on: str | None = None  # None: the first provider asked for
        self.fail: Exception | None = None
        self.sessions: list[FakeSession] = []

    @property
    def last(self) -> FakeSession:
        assert self.sessions, "no session was opened"
        return self.sessions[-1]


class FakeSession:
    def __init__(self, ort_: FakeOnnxruntime, path: str, options: Any,
                 providers: list[tuple[str, dict[str, Any]]]) -> None:
        self.path = path
        self.options = options
        self.pairs = providers
        self._runs_on = ort_.lands_on or providers[0][0]

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.pairs]

    def options_for(self, provider: str) -> dict[str, Any]:
        return dict(self.pairs)[provider]

    def get_providers(self) -> list[str]:
        return [self._runs_on, CPU] if self._runs_on != CPU else [CPU]

    def get_inputs(self) -> list[Any]:
        class Input:
            name = "input.1"
            shape = (1, 3, 320, 320)

        return [Input()]


@pytest.fixture
def fake_ort(monkeypatch: pytest.MonkeyPatch) -> FakeOnnxruntime:
    fake = FakeOnnxruntime()

    def session(path: str, options: Any = None, *,
                providers: list[tuple[str, dict[str, Any]]]) -> FakeSession:
        if fake.fail is not None:
            raise fake.fail
        made = FakeSession(fake, path, options, providers)
        fake.sessions.append(made)
        return made

    monkeypatch.setattr(providers, "available", lambda: list(fake.offered))
    monkeypatch.setattr(ort, "InferenceSession", session)
    monkeypatch.setattr(predict, "_loaded", {})  # models opened on fakes are not kept
    return fake


def open_on(placement: Placement, path: Path = Path("model.onnx")) -> Any:
    return providers.open_session(path, placement, what="model test")


# --------------------------------------------------------------------------- choice


@pytest.mark.parametrize("device", sorted(DEVICES))
def test_each_device_asks_for_its_providers_then_the_cpu(
    fake_ort: FakeOnnxruntime, device: str
) -> None:
    fake_ort.offered = [*ALL_GPUS, CPU]

    open_on(Placement(device=device))

    expected = [CPU] if device == "cpu" else [*DEVICES[device], CPU]
    assert fake_ort.last.names == expected


def test_auto_tries_the_gpus_of_this_build_best_first_then_the_cpu(
    fake_ort: FakeOnnxruntime,
) -> None:
    fake_ort.offered = ["AzureExecutionProvider", CPU, *reversed(ALL_GPUS)]

    open_on(Placement(device="auto"))

    assert fake_ort.last.names == [*AUTO_ORDER, CPU]
    assert fake_ort.last.names[:2] == ["CUDAExecutionProvider", "MIGraphXExecutionProvider"]
    assert "TensorrtExecutionProvider" not in fake_ort.last.names  # engines take minutes
    assert "AzureExecutionProvider" not in fake_ort.last.names


@pytest.mark.parametrize(("offered", "first"), [
    (["DmlExecutionProvider", CPU], "DmlExecutionProvider"),
    (["CoreMLExecutionProvider", CPU], "CoreMLExecutionProvider"),
    (["ROCMExecutionProvider", "MIGraphXExecutionProvider", CPU], "MIGraphXExecutionProvider"),
    (["AzureExecutionProvider", CPU], CPU),
])
def test_auto_uses_the_one_gpu_the_build_has(
    fake_ort: FakeOnnxruntime, offered: list[str], first: str
) -> None:
    fake_ort.offered = offered

    open_on(Placement())

    assert fake_ort.last.names[0] == first
    assert fake_ort.last.names[-1] == CPU


@pytest.mark.parametrize("device", sorted(set(DEVICES) - {"cpu"}))
def test_an_explicit_device_missing_from_the_build_is_refused_with_the_install_hint(
    fake_ort: FakeOnnxruntime, device: str
) -> None:
    fake_ort.offered = ["AzureExecutionProvider", CPU]

    with pytest.raises(ModelError) as caught:
        open_on(Placement(device=device))

    message = str(caught.value)
    assert f"device '{device}'" in message
    assert DEVICES[device][0] in message
    assert "it offers: AzureExecutionProvider, CPUExecutionProvider" in message
    assert providers.install_hint(device) in message
    assert fake_ort.sessions == []  # refused before anything is loaded


@pytest.mark.parametrize(("device", "hint"), [
    ("cuda", "onnxruntime-gpu"), ("tensorrt", "TensorRT"), ("directml", "onnxruntime-directml"),
    ("coreml", "macOS"), ("rocm", "ROCm"), ("openvino", "onnxruntime-openvino"),
])
def test_the_install_hint_names_the_package_for_the_device(device: str, hint: str) -> None:
    assert hint in providers.install_hint(device)


# --------------------------------------------------------------------------- what it ran on


def test_the_provider_a_model_really_runs_on_is_logged(
    fake_ort: FakeOnnxruntime, caplog: pytest.LogCaptureFixture
) -> None:
    fake_ort.offered = ["CUDAExecutionProvider", CPU]
    caplog.set_level(logging.INFO, logger="studiocut.models.providers")

    open_on(Placement())

    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any(m.startswith("model test runs on CUDAExecutionProvider (") for m in infos), infos
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_gpu_that_fails_to_load_falls_back_to_the_cpu_with_a_warning(
    fake_ort: FakeOnnxruntime, caplog: pytest.LogCaptureFixture
) -> None:
    fake_ort.offered = ["CUDAExecutionProvider", CPU]
    fake_ort.lands_on = CPU  # e.g. the CUDA libraries are missing
    caplog.set_level(logging.INFO, logger="studiocut.models.providers")

    session = open_on(Placement(device="cuda"))

    assert session.get_providers()[0] == CPU
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["model test: CUDAExecutionProvider could not be used; running on "
                        "CPUExecutionProvider"]
    assert any("model test runs on CPUExecutionProvider" in r.getMessage()
               for r in caplog.records)


def test_tensorrt_asked_for_on_a_build_without_it_warns_that_cuda_runs_instead(
    fake_ort: FakeOnnxruntime, caplog: pytest.LogCaptureFixture
) -> None:
    fake_ort.offered = ["CUDAExecutionProvider", CPU]

    open_on(Placement(device="tensorrt"))

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["model test: TensorrtExecutionProvider could not be used; running on "
                        "CUDAExecutionProvider"]


def test_a_cpu_only_build_runs_auto_on_the_cpu_without_a_warning(
    fake_ort: FakeOnnxruntime, caplog: pytest.LogCaptureFixture
) -> None:
    fake_ort.offered = ["AzureExecutionProvider", CPU]

    open_on(Placement())

    assert fake_ort.last.names == [CPU]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_require_gpu_refuses_a_model_that_landed_on_the_cpu(fake_ort: FakeOnnxruntime) -> None:
    fake_ort.offered = ["CUDAExecutionProvider", CPU]
    fake_ort.lands_on = CPU

    with pytest.raises(ModelError) as caught:
        open_on(Placement(device="cuda", require_gpu=True))

    message = str(caught.value)
    assert message.startswith("model test: require_gpu is set but the model runs on the CPU")
    assert "device 'cuda'" in message
    assert "offers CUDAExecutionProvider, CPUExecutionProvider" in message
    assert providers.install_hint("cuda") in message


def test_require_gpu_with_auto_on_a_cpu_only_build_names_the_fix(
    fake_ort: FakeOnnxruntime,
) -> None:
    fake_ort.offered = [CPU]

    with pytest.raises(ModelError) as caught:
        open_on(Placement(device="auto", require_gpu=True))

    assert "device 'auto'" in str(caught.value)
    assert "onnxruntime-gpu" in str(caught.value)


def test_require_gpu_is_met_by_a_gpu(fake_ort: FakeOnnxruntime) -> None:
    fake_ort.offered = ["DmlExecutionProvider", CPU]

    session = open_on(Placement(require_gpu=True))

    assert session.get_providers()[0] == "DmlExecutionProvider"


def test_a_graph_onnxruntime_cannot_load_is_a_model_error_naming_the_file(
    fake_ort: FakeOnnxruntime,
) -> None:
    fake_ort.fail = RuntimeError("[ONNXRuntimeError] : 7 : INVALID_PROTOBUF")

    with pytest.raises(ModelError) as caught:
        open_on(Placement(device="cpu"), Path("/models/broken.onnx"))

    assert str(caught.value).startswith(f"{Path('/models/broken.onnx')}: onnxruntime cannot "
                                        "load this model")
    assert "INVALID_PROTOBUF" in str(caught.value)


def test_a_real_onnxruntime_refuses_a_file_that_is_not_a_model(tmp_path: Path) -> None:
    path = tmp_path / "not-a-model.onnx"
    path.write_bytes(b"\x00 definitely not protobuf")

    with pytest.raises(ModelError, match="onnxruntime cannot load this model"):
        open_on(Placement(device="cpu"), path)


def test_describe_says_so_when_onnxruntime_exposes_no_devices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(ort, "get_ep_devices", raising=False)

    assert providers.describe(CPU) == "device details not exposed by this onnxruntime"


# --------------------------------------------------------------------------- options


def test_directml_sessions_run_sequentially_without_a_memory_pattern(
    fake_ort: FakeOnnxruntime,
) -> None:
    fake_ort.offered = ["DmlExecutionProvider", CPU]

    open_on(Placement(device="directml", threads=3))

    options = fake_ort.last.options
    assert isinstance(options, ort.SessionOptions)
    assert options.enable_mem_pattern is False
    assert options.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
    assert options.intra_op_num_threads == 3


def test_cuda_sessions_keep_the_memory_pattern(fake_ort: FakeOnnxruntime) -> None:
    fake_ort.offered = ["CUDAExecutionProvider", CPU]

    open_on(Placement(device="cuda"))

    assert fake_ort.last.options.enable_mem_pattern is True
    assert fake_ort.last.options_for("CUDAExecutionProvider") == {
        "arena_extend_strategy": "kSameAsRequested", "cudnn_conv_algo_search": "HEURISTIC"}
    assert fake_ort.last.options_for(CPU) == {}


def test_tensorrt_caches_its_engines_in_the_placement_cache_dir(
    fake_ort: FakeOnnxruntime, tmp_path: Path
) -> None:
    fake_ort.offered = [*ALL_GPUS, CPU]

    open_on(Placement(device="tensorrt", cache_dir=tmp_path / "engine-cache"))

    trt = fake_ort.last.options_for("TensorrtExecutionProvider")
    assert trt["trt_engine_cache_enable"] is True
    assert trt["trt_engine_cache_path"] == str(tmp_path / "engine-cache")
    assert trt["trt_fp16_enable"] is True
    assert "trt_engine_cache_path" not in fake_ort.last.options_for("CUDAExecutionProvider")


def test_tensorrt_without_a_cache_dir_sets_no_cache_path(fake_ort: FakeOnnxruntime) -> None:
    fake_ort.offered = [*ALL_GPUS, CPU]

    open_on(Placement(device="tensorrt"))

    assert "trt_engine_cache_path" not in fake_ort.last.options_for("TensorrtExecutionProvider")


def test_profile_provider_options_override_the_defaults_end_to_end(
    fake_ort: FakeOnnxruntime, tmp_path: Path
) -> None:
    fake_ort.offered = ["CUDAExecutionProvider", CPU]
    profile = make_profile(model="u2netp", device="CUDA", require_gpu=True, provider_options={
        "CUDAExecutionProvider": {"cudnn_conv_algo_search": "EXHAUSTIVE", "device_id": 1},
        "CPUExecutionProvider": {"arena_extend_strategy": "kNextPowerOfTwo"},
    })

    model = predict.open_model(profile.model_request(threads=2, cache_dir=tmp_path / "trt"))

    session = fake_ort.last
    assert Path(session.path) == predict.weights_path(registry.MODELS["u2netp"])
    assert session.names == ["CUDAExecutionProvider", CPU]
    assert session.options_for("CUDAExecutionProvider") == {
        "arena_extend_strategy": "kSameAsRequested",  # default kept
        "cudnn_conv_algo_search": "EXHAUSTIVE",  # default overridden
        "device_id": 1,  # added
    }
    assert session.options_for(CPU) == {"arena_extend_strategy": "kNextPowerOfTwo"}
    assert session.options.intra_op_num_threads == 2
    assert model.provider == "CUDAExecutionProvider"  # type: ignore[attr-defined]


def test_equal_requests_share_one_session_and_different_placements_do_not(
    fake_ort: FakeOnnxruntime,
) -> None:
    fake_ort.offered = ["CUDAExecutionProvider", CPU]
    on_gpu = make_profile(model="u2netp", device="cuda")
    on_cpu = make_profile(model="u2netp", device="cpu")

    first = predict.open_model(on_gpu.model_request())
    again = predict.open_model(on_gpu.model_request())
    other = predict.open_model(on_cpu.model_request())

    assert first is again and first is not other
    assert [s.names[0] for s in fake_ort.sessions] == ["CUDAExecutionProvider", CPU]


def test_idle_inference_threads_sleep_instead_of_spinning(fake_ort: FakeOnnxruntime) -> None:
    open_on(Placement(device="cpu", threads=2))

    options = fake_ort.last.options
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"


def test_a_session_runs_one_inference_at_a_time() -> None:
    """Workers share a model's session; their runs take turns (on every core each)."""
    inside = 0
    overlapped = False
    entered = threading.Event()

    class Slow:
        def run(self, *args: Any) -> str:
            nonlocal inside, overlapped
            inside += 1
            overlapped = overlapped or inside > 1
            entered.set()
            time.sleep(0.05)
            inside -= 1
            return "done"

        def get_providers(self) -> list[str]:
            return [CPU]

    session = providers.Session(Slow())
    threads = [threading.Thread(target=session.run, args=(None, {})) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)

    assert entered.is_set() and not overlapped
    assert session.get_providers() == [CPU]  # everything else reaches the real session


class Sleeps:
    """A session whose runs sleep, on the provider given."""

    def __init__(self, provider: str = CPU) -> None:
        self.provider = provider
        self.running = threading.Event()

    def run(self, seconds: float) -> None:
        self.running.set()
        time.sleep(seconds)

    def get_providers(self) -> list[str]:
        return [self.provider, CPU]


def test_a_threads_inference_seconds_count_its_own_runs_not_its_wait_for_the_session() -> None:
    """What the framing slots go by (imaging.locate): how long this photo's runs held the
    cores, not how long its thread queued behind another worker's run."""
    stub = Sleeps()
    session = providers.Session(stub)
    spent: dict[str, float] = {}

    def run(name: str, seconds: float) -> None:
        before = providers.inference_seconds()
        if name == "second":
            stub.running.wait(5)  # the first run is under way: this one waits for it
        session.run(seconds)
        spent[name] = providers.inference_seconds() - before

    threads = [threading.Thread(target=run, args=("first", 0.3)),
               threading.Thread(target=run, args=("second", 0.05))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)

    assert 0.3 <= spent["first"] < 0.6
    assert 0.05 <= spent["second"] < 0.2  # it waited about 0.3 s for the first run


def test_runs_on_a_gpu_do_not_count_as_holding_the_cores() -> None:
    session = providers.Session(Sleeps("CUDAExecutionProvider"))
    before = providers.inference_seconds()

    session.run(0.05)

    assert providers.inference_seconds() == before
