"""registry: the table of models: every row names its files and checksums, its licence, and
the input size its family is fed."""

from __future__ import annotations

import pytest

from studiocut.errors import ModelError
from studiocut.models import registry
from studiocut.models.registry import MODELS


def test_unknown_model_is_a_model_error_listing_the_known_names() -> None:
    with pytest.raises(ModelError) as caught:
        registry.spec_for("u2netq")
    message = str(caught.value)
    assert "'u2netq'" in message
    for name in ("u2netp", "isnet-general-use", "birefnet-general", "backdrop-key"):
        assert name in message


UNPINNED = {"bria-rmbg-2.0"}  # no public checksum is published for these weights


def test_every_registered_model_has_a_file_and_a_checksum_unless_it_needs_no_weights() -> None:
    for name, spec in MODELS.items():
        assert spec.name == name
        if spec.family == "key":
            continue
        for artifact in spec.artifacts:
            assert artifact.file.endswith(".onnx")
            assert len(artifact.md5) == 32 or name in UNPINNED


def test_non_commercial_weights_say_so_in_the_registry() -> None:
    assert not MODELS["bria-rmbg-2.0"].commercial
    assert "non-commercial" in MODELS["bria-rmbg-2.0"].licence
    assert all(spec.commercial for name, spec in MODELS.items() if name != "bria-rmbg-2.0")


@pytest.mark.parametrize(("like", "size"), [("u2net", (320, 320)),
                                             ("isnet-general-use", (1024, 1024)),
                                             ("birefnet-general", (1024, 1024)),
                                             ("bria-rmbg-2.0", (1024, 1024))])
def test_each_family_feeds_its_graph_the_size_that_models_md_gives(like: str,
                                                                   size: tuple[int, int]) -> None:
    assert MODELS[like].input_size == size
