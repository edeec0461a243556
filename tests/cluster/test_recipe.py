"""A profile's processing settings survive the trip to a worker and back."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from studiocut.cluster import recipe
from studiocut.profiles import parse

CASES: list[dict[str, Any]] = [
    {},
    {"model": "backdrop-key", "key": {"assist": "none", "colour": "#00ff00"},
     "backdrop": "transparent", "format": "png", "square": {"size": 1000, "margin": 20}},
    {"matting": True, "review": {"hold": "flagged", "max_area": None}, "cleanup": False,
     "quality": 80, "limits": {"max_pixels": 1000000}},
    {"model": "sam-vit-b", "prompt": "auto"},
    {"canvas": {"width": 1000, "height": 1440, "fill": 0.85, "placement": "bottom"}},
    {"preset": "zalando", "quality": 80},
    {"model": "sam-vit-b", "prompt": {"points": [[0.5, 0.5, 1]]}, "review": False},
]
FIELDS = ("model", "device", "require_gpu", "backdrop", "encoding", "matting", "cleanup",
          "limits", "canvas", "preset", "key", "prompt", "custom_model")


@pytest.mark.parametrize("keys", CASES)
def test_a_recipe_rebuilds_the_same_processing_settings(keys: dict[str, Any]) -> None:
    profile = parse({**keys, "output": "/tmp/o", "watch": "/tmp/w"}, name="p",
                    source="p.yaml")

    data = json.loads(json.dumps(recipe.of(profile)))
    again = recipe.profile_of(data, name="p")

    for name in FIELDS:
        assert getattr(again, name) == getattr(profile, name), name
    if profile.review is None:
        assert again.review is None
    else:
        assert again.review == dataclasses.replace(profile.review, folder=None)
    assert "watch" not in data and "output" not in data  # publishing stays on the station
