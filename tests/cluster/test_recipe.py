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
    {"metadata": {"gps": True, "studiocut": False}},
    {"metadata": False},
    {"shadow": "contact"},
    {"shadow": {"contact": {"offset": 0.02, "blur": 0.05, "opacity": 0.4},
                "transparent": True}, "backdrop": "transparent", "format": "png"},
    {"model": "auto", "shadow": "keep"},
]
FIELDS = ("name", "model", "device", "require_gpu", "backdrop", "encoding", "matting",
          "cleanup", "limits", "canvas", "preset", "key", "prompt", "custom_model", "metadata",
          "shadow")


@pytest.mark.parametrize("keys", CASES)
def test_a_recipe_rebuilds_the_same_processing_settings(keys: dict[str, Any]) -> None:
    profile = parse({**keys, "output": "/tmp/o", "watch": "/tmp/w"}, name="white-square",
                    source="white-square.yaml")

    data = json.loads(json.dumps(recipe.of(profile)))
    again = recipe.profile_of(data, name="cluster")

    for name in FIELDS:
        assert getattr(again, name) == getattr(profile, name), name
    if profile.review is None:
        assert again.review is None
    else:
        assert again.review == dataclasses.replace(profile.review, folder=None)
    assert "watch" not in data and "output" not in data  # publishing stays on the station


def test_the_profile_s_name_is_part_of_the_job_because_the_output_names_it() -> None:
    """studiocut's XMP fields name the profile, so two profiles with the same settings make
    different bytes: their jobs must not be taken for one another."""
    one, other = (parse({}, name=name, source=f"{name}.yaml") for name in ("amazon", "ebay"))

    assert recipe.of(one) != recipe.of(other)
    assert recipe.profile_of(recipe.of(other), name="cluster").name == "ebay"
