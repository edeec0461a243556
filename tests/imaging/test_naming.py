"""naming: an output's name from the profile's template, fitted to the file system."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import make_profile
from studiocut.errors import InputError
from studiocut.imaging import naming


def test_a_name_that_fits_is_kept() -> None:
    assert naming.fit("IMG_0001.png") == "IMG_0001.png"


def test_a_long_name_keeps_its_start_and_extension_and_stays_unique() -> None:
    first, second = naming.fit("a" * 300 + "1.png"), naming.fit("a" * 300 + "2.png")

    assert first != second
    assert first.startswith("a" * 100) and first.endswith(".png")
    assert len(os.fsencode(first)) <= naming.MAX_NAME


def test_a_long_name_that_is_not_utf_8_is_cut_at_whole_characters() -> None:
    name = os.fsdecode(b"\xe9t\xe9" * 100 + b".jpg")

    fitted = naming.fit(name)

    assert len(os.fsencode(fitted)) <= naming.MAX_NAME and fitted.endswith(".jpg")


def test_output_path_fits_a_long_source_name(tmp_path: Path) -> None:
    profile = make_profile(format="png", backdrop="transparent")
    source = tmp_path / ("x" * 240 + ".jpg")

    dest = naming.output_path(tmp_path / "out", Path(), source, profile.encoding, "shop")

    assert dest.parent == tmp_path / "out" and len(os.fsencode(dest.name)) <= naming.MAX_NAME


def test_a_template_that_makes_no_plain_name_is_refused(tmp_path: Path) -> None:
    profile = make_profile(name="{stem}")

    with pytest.raises(InputError) as refused:
        naming.output_path(tmp_path, Path(), tmp_path / "..jpg", profile.encoding, "shop")

    assert refused.value.reason == "bad-name"
