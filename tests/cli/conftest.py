"""Fixtures of the command tests: a models folder under tmp_path with a model of its own."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from studiocut.models import predict
from studiocut.models.registry import MODELS, ModelSpec


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A models folder (STUDIOCUT_MODELS) holding a copy of the embedded u2netp weights,
    registered as the model ``test-u2netp`` (file ``test-u2netp.onnx``)."""
    name, file, u2netp = "test-u2netp", "test-u2netp.onnx", MODELS["u2netp"]
    folder = tmp_path / "models"
    folder.mkdir()
    shutil.copyfile(predict.weights_path(u2netp), folder / file)
    monkeypatch.setenv("STUDIOCUT_MODELS", str(folder))
    monkeypatch.setitem(MODELS, name, ModelSpec(name, "u2net", file, u2netp.md5, u2netp.sha256))
    monkeypatch.setattr(predict, "_loaded", {})
    return folder
