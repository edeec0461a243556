"""schema: what a Profile asks of the model registry (Profile.model_request)."""

from __future__ import annotations

from pathlib import Path

from conftest import make_profile
from studiocut.models import registry


def test_provider_options_reach_the_model_request(tmp_path: Path) -> None:
    profile = make_profile(device="tensorrt", require_gpu=True, provider_options={
        "TensorrtExecutionProvider": {"trt_fp16_enable": False, "trt_max_workspace_size": 1}})

    request = profile.model_request(threads=3, cache_dir=tmp_path / "trt")

    assert request.spec is registry.MODELS["u2netp"]
    assert request.placement.device == "tensorrt" and request.placement.require_gpu is True
    assert request.placement.threads == 3 and request.placement.cache_dir == tmp_path / "trt"
    assert request.placement.options == {
        "TensorrtExecutionProvider": {"trt_fp16_enable": False, "trt_max_workspace_size": 1}}
    assert request.prompt is None


def test_prompt_reaches_the_model_request() -> None:
    profile = make_profile(model="sam-vit-b", prompt={"box": [0.1, 0.2, 0.9, 0.8]})

    request = profile.model_request()

    assert request.spec is registry.MODELS["sam-vit-b"]
    assert request.prompt is not None and request.prompt.box == (0.1, 0.2, 0.9, 0.8)
