"""fields: single values of a profile: output-name templates (RELIABILITY item 43),
colours and choices.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import make_profile
from studiocut.errors import ConfigError
from studiocut.imaging.naming import output_name

# --------------------------------------------------------------------------- 43 name templates


@pytest.mark.parametrize("template", [
    "../{stem}.{ext}",
    "{stem}/../../etc/passwd",
    "/var/www/{stem}.{ext}",
    "sub/{stem}.{ext}",
    "C:\\Windows\\{stem}",
    "{stem}:{ext}",
    ".{stem}.{ext}",
    "{stem.__class__}",
    "{stem}-{stem.__class__.__init__.__globals__}",
    "{stem}-{ext.__len__}",
    "{stem[0]}.{ext}",
    "{stem!r}.{ext}",
    "{stem:>300}.{ext}",
    "{0}.{ext}",
    "{stem}-{0}.{ext}",
    "{stem}-{}.{ext}",
    "{stem}-{path}.{ext}",
    "{profile}.{ext}",
    "{stem.{ext}",
    "{stem}\x00.{ext}",
])
def test_unsafe_output_name_template_is_refused_at_load(template: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_profile(name=template)

    assert len(caught.value.problems) == 1
    assert "At 'name':" in caught.value.problems[0]


@pytest.mark.parametrize(("template", "rendered"), [
    ("{stem}.{ext}", "IMG_1.jpg"),
    ("{stem}-cutout.{ext}", "IMG_1-cutout.jpg"),
    ("{profile}_{stem}_{source_ext}.{ext}", "test_IMG_1_cr2.jpg"),
])
def test_plain_output_name_template_is_accepted(template: str, rendered: str) -> None:
    profile = make_profile(name=template)

    assert output_name(Path("IMG_1.CR2"), profile.encoding, profile.name) == rendered


# --------------------------------------------------------------------------- colours and choices


@pytest.mark.parametrize(("value", "colour"), [
    ("#F5F5F5", (245, 245, 245)), ("00ff80", (0, 255, 128)), ([10, 20, 30], (10, 20, 30)),
])
def test_backdrop_colour_forms(value: object, colour: tuple[int, int, int]) -> None:
    profile = make_profile(backdrop=value)

    assert profile.backdrop == colour
    assert profile.encoding.format == "jpeg"


def test_choices_are_case_insensitive() -> None:
    profile = make_profile(format="PNG", icc="Original", watch_mode="Polling")

    assert (profile.encoding.format, profile.encoding.icc, profile.watch_mode) == (
        "png", "original", "polling")
