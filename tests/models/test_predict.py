"""predict: opening a model from its weights, which are checked against the registry
first; a missing or damaged file is a ModelError that says what to do."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from studiocut.errors import ModelError
from studiocut.models import predict
from studiocut.models.registry import MODELS, ModelSpec

U2NETP = MODELS["u2netp"]


# --------------------------------------------------------------------------- weights


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


def test_model_file_with_a_wrong_checksum_is_refused(tmp_path: Path) -> None:
    spec = MODELS["u2net"]
    path = tmp_path / spec.file
    path.write_bytes(b"not the weights")

    with pytest.raises(ModelError) as caught:
        predict.verify(spec, path)

    assert "checksum mismatch" in str(caught.value)
    assert spec.md5 in str(caught.value)


# --------------------------------------------------------------------------- opening


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
