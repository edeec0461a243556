"""presets: the marketplace rows, looked up by name, each one consistent with its own rules
and documented in the README's table with its sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from studiocut.errors import ConfigError
from studiocut.profiles import FORMATS, Encoding, presets

README = Path(__file__).resolve().parents[2] / "README.md"
MARKETPLACES = ("amazon", "walmart", "zalando", "etsy", "shopify", "ebay", "google")


def test_every_marketplace_of_the_issue_has_a_preset() -> None:
    assert presets.NAMES == MARKETPLACES
    assert all(presets.get(name).name == name for name in MARKETPLACES)


def test_an_unknown_name_is_refused_with_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        presets.get("amazn")

    message = str(caught.value)
    assert "'amazn'" in message
    assert all(name in message for name in MARKETPLACES), message


@pytest.mark.parametrize("name", MARKETPLACES)
def test_a_preset_renders_what_its_own_rules_accept(name: str) -> None:
    preset = presets.get(name)
    width, height = preset.canvas
    short, long = sorted(preset.canvas)

    assert preset.format in FORMATS and preset.format in preset.accepts
    assert 1 <= preset.quality <= 100
    assert short >= preset.min_short and long >= preset.min_long
    assert preset.max_long is None or long <= preset.max_long
    assert preset.max_pixels is None or width * height <= preset.max_pixels
    if preset.aspect is not None:
        aw, ah = preset.aspect
        assert abs((height / width) / (ah / aw) - 1) < 0.01
    assert 0 < preset.fill <= 1
    assert preset.min_fill is None or preset.fill >= preset.min_fill
    assert not preset.white or preset.backdrop == (255, 255, 255)


@pytest.mark.parametrize("name", MARKETPLACES)
def test_a_preset_names_its_sources_and_which_values_are_only_recommended(name: str) -> None:
    preset = presets.get(name)

    assert preset.sources and all(url.startswith("https://") for url in preset.sources)
    assert "recommend" in preset.notes or "choice" in preset.notes


def test_the_preset_encoding_keeps_the_profiles_name_template() -> None:
    base = Encoding(format="png", quality=70, icc="original", name="{stem}_main.{ext}")

    encoding = presets.get("amazon").encoding(base)

    assert (encoding.format, encoding.quality, encoding.icc) == ("jpeg", 95, "srgb")
    assert encoding.name == "{stem}_main.{ext}"
    assert presets.get("google").encoding() == Encoding(format="jpeg", quality=92, icc="srgb")


def test_the_readme_table_lists_every_preset_with_its_canvas_and_source() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Marketplace presets", 1)[1].split("\n## ", 1)[0]
    rows = {line.split("|")[1].strip(" `"): line for line in section.splitlines()
            if line.startswith("| `")}

    assert set(rows) == set(MARKETPLACES)
    for name, row in rows.items():
        preset = presets.get(name)
        assert "{} x {}".format(*preset.canvas) in row, row
        assert all(url in row for url in preset.sources), row
