"""Fixtures of the model tests: an empty models folder that opened models are not kept past."""

from __future__ import annotations

from pathlib import Path

import pytest

from studiocut.models import predict


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("STUDIOCUT_MODELS", str(folder))
    monkeypatch.setattr(predict, "_loaded", {})
    return folder
