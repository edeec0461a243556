"""A profile's processing settings survive the trip to a worker and back."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from studiocut.cluster import recipe, spool
from studiocut.errors import ConfigError
from studiocut.imaging.frame import Lineup
from studiocut.imaging.metadata import Own
from studiocut.imaging.naming import Product
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
    {"preset": "amazon", "renditions": [
        {"name": "amazon"}, {"name": "zalando", "preset": "zalando", "folder": "z"},
        {"name": "cutout", "backdrop": "transparent", "square": False, "suffix": "_cut"}]},
    {"sku": {"from": "barcode", "consistent": False}, "name": "{sku}_{view}.{ext}",
     "canvas": {"width": 1000, "height": 1440, "placement": "bottom", "floor": 40},
     "renditions": [{"name": "a", "file_name": "{sku}-{view}.{ext}"},
                    {"name": "b", "fill": 0.7, "folder": "b", "format": "webp"}]},
    {"sku": "folder", "square": {"size": 1000, "min_size": 500, "margin": 30},
     "renditions": [{"name": "big"}, {"name": "small", "canvas": {"width": 400, "height": 600},
                                      "suffix": "_s", "placement": "bottom"}]},
]
FIELDS = ("name", "model", "device", "require_gpu", "backdrop", "encoding", "matting",
          "cleanup", "limits", "canvas", "preset", "key", "prompt", "custom_model", "metadata",
          "shadow", "renditions", "sku")


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


def test_what_the_station_decided_for_the_photo_travels_with_it_and_keys_the_job() -> None:
    """SKU, view, the SKU's lineups and the revision change the output's pixels or its XMP:
    the worker gets them, and a photo of another view or lineup is another job."""
    profile = parse({"sku": "folder", "square": {"size": 500}, "renditions": [
        {"name": "a"}, {"name": "b", "folder": "b"}]}, name="p", source="p.yaml")
    lineups = {"a": Lineup(0.123456789012345, 411)}

    data = json.loads(json.dumps(recipe.of(profile, product=Product("AB-7", 2),
                                           lineups=lineups, revision=3)))
    job = recipe.job_of(data, name="cluster")

    assert (job.product, dict(job.lineups), job.revision) == (Product("AB-7", 2), lineups, 3)
    assert job.own == Own(sku="AB-7", view="2", revision="3")
    assert job.profile == recipe.profile_of(recipe.of(profile), name="cluster")
    plain = recipe.of(profile)
    assert recipe.job_of(plain, name="cluster") == recipe.Job(job.profile)
    keys = {spool.job_key(b"photo", rules) for rules in (
        plain, data, recipe.of(profile, product=Product("AB-7", 3), lineups=lineups,
                               revision=3),
        recipe.of(profile, product=Product("AB-7", 2), revision=3))}
    assert len(keys) == 4


@pytest.mark.parametrize(("key", "value"), [
    ("product", {"sku": "", "view": 1}), ("product", {"sku": "A", "view": 0}),
    ("lineups", {"nope": [0.5, 10]}), ("lineups", {"default": [0, 10]}),
    ("lineups", {"default": [0.5, True]}), ("revision", "3")])
def test_a_photo_s_keys_not_as_a_station_writes_them_are_refused(key: str,
                                                                 value: object) -> None:
    profile = parse({"sku": "folder", "square": True}, name="p", source="p.yaml")
    data = {**recipe.of(profile), key: value}
    with pytest.raises(ConfigError, match=f"At '{key}'"):
        recipe.job_of(data, name="cluster")
