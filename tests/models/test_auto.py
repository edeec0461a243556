"""auto: ``model: auto``, the built-in default: the embedded u2netp, marked for the studio
path; it needs no download."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studiocut.models import predict
from studiocut.models.auto import AutoModel
from studiocut.models.registry import MODELS
from studiocut.profiles import builtin_default


def test_auto_is_registered_as_needing_no_files_of_its_own() -> None:
    spec = MODELS["auto"]

    assert spec.family == "auto" and not spec.needs_files
    assert predict.installed(spec)


@pytest.mark.realmodel
def test_the_builtin_default_opens_the_embedded_u2netp_with_an_empty_model_cache(
        tmp_path: Path) -> None:
    profile = builtin_default()
    assert profile.model == "auto"

    model = predict.open_model(profile.model_request(cache_dir=tmp_path / "no-downloads"))

    assert isinstance(model, AutoModel) and model.studio
    assert model.network.name == "u2netp"
    assert model.input_size == MODELS["u2netp"].input_size
    mask = model.predict(np.full((64, 64, 3), 200, dtype=np.uint8))
    assert mask.ndim == 2 and mask.dtype == np.float32
    assert not (tmp_path / "no-downloads").exists() or not any(
        (tmp_path / "no-downloads").iterdir())
