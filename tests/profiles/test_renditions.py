"""renditions: the output keys of a profile (canvas or square, fill or margin), its
``renditions:`` list over them, and the ``sku`` key, each problem at its key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import make_profile
from studiocut.errors import ConfigError
from studiocut.profiles import Canvas, Encoding, Rendition, Sku, load


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "listing.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert all(line.startswith(f"{path}: At '") for line in caught.value.problems)
    return caught.value.problems


def _at(problems: list[str], key: str) -> str:
    found = [p for p in problems if f"At '{key}':" in p]
    assert len(found) == 1, (key, problems)
    return found[0]


# --------------------------------------------------------------------------- canvas and fill


def test_a_canvas_of_any_aspect_is_read_with_its_framing_keys() -> None:
    profile = make_profile(canvas={"width": 1000, "height": 1440, "fill": 0.85,
                                   "placement": "bottom", "floor": 0.04})
    assert profile.canvas == Canvas(width=1000, height=1440, fill=0.85, placement="bottom",
                                    floor=0.04)


def test_square_is_the_canvas_of_equal_sides() -> None:
    assert make_profile(square={"size": 1600}).canvas == Canvas(width=1600, height=1600)
    assert make_profile(square={"size": 1600, "fill": 0.9}).canvas == Canvas(
        width=1600, height=1600, fill=0.9)


def test_fill_is_the_share_of_the_limiting_side_and_margin_its_alternative() -> None:
    canvas = Canvas(width=1000, height=1440, fill=0.8)
    assert canvas.margins_px((1000, 1440)) == pytest.approx((100, 144))
    # a margin is one border all round: a fraction of the shorter side
    assert Canvas(width=1000, height=1440, margin=0.05).margins_px((1000, 1440)) == (50, 50)


@pytest.mark.parametrize(("text", "key", "words"), [
    ("square: {size: 1000}\ncanvas: {width: 1000, height: 1440}\n", "canvas",
     "square or canvas, not both"),
    ("canvas: {width: 1000}\n", "canvas", "width and height"),
    ("canvas: {width: 1000, height: 1440, margin: 0.05, fill: 0.9}\n", "canvas.fill",
     "alternatives"),
    ("canvas: {width: 1000, height: 1440, fill: 0}\n", "canvas.fill", "above 0"),
    ("canvas: {width: 1000, height: 1440, fill: 1.2}\n", "canvas.fill", "out of range"),
    ("canvas: {width: 1000, height: 1440, margin: 1001}\n", "canvas.margin", "out of range"),
    ("canvas: {width: 1000, height: 1440, margin: 600}\n", "canvas.margin", "no room"),
    ("canvas: {width: 1000, height: 1440, margin: 0.6}\n", "canvas.margin", "no room"),
    ("canvas: {width: 1000, height: 1440, min_size: 1200}\n", "canvas.min_size",
     "out of range"),
    ("canvas: {widht: 1000, height: 1440}\n", "canvas.widht", "did you mean 'width'"),
    ("canvas: 1000\n", "canvas", "must be false or a mapping"),
])
def test_canvas_problems_are_reported_at_their_key(tmp_path: Path, text: str, key: str,
                                                   words: str) -> None:
    assert words in _at(_problems(tmp_path, text), key)


def test_existing_square_profiles_stay_valid() -> None:
    profile = make_profile(square={"size": 2000, "margin": 60, "placement": "bottom",
                                   "min_size": 1000})
    assert profile.canvas == Canvas(width=2000, height=2000, margin=60, placement="bottom",
                                    min_size=1000)
    assert profile.square is profile.canvas  # the name tools written for 0.1 read


# --------------------------------------------------------------------------- renditions


def test_a_profile_without_renditions_has_one_of_its_own_output_keys() -> None:
    profile = make_profile(backdrop="#EDEDED", square={"size": 1200}, format="webp",
                           name="{stem}_grey.{ext}")
    assert profile.renditions == ()
    (only,) = profile.all_renditions
    assert only == Rendition("default", (237, 237, 237), Canvas(width=1200, height=1200),
                             profile.encoding)


def test_each_rendition_overrides_the_profiles_output_keys() -> None:
    profile = make_profile(square={"size": 2000, "margin": 0.05, "placement": "bottom"},
                           quality=90, renditions=[
        {"name": "white"},
        {"name": "cutout", "backdrop": "transparent", "square": {"size": 1600},
         "folder": "png", "png_level": 6},
        {"name": "zalando", "canvas": {"width": 1000, "height": 1440}, "fill": 0.85,
         "quality": 85, "suffix": "_z", "file_name": "{stem}-{rendition}.{ext}"},
    ])
    white, cutout, zalando = profile.all_renditions
    assert white == Rendition("white", (255, 255, 255), profile.canvas, profile.encoding)
    assert cutout.transparent and cutout.encoding.format == "png", "transparent: PNG"
    assert cutout.canvas == Canvas(width=1600, height=1600, placement="bottom")
    assert (cutout.folder, cutout.encoding.png_level) == ("png", 6)
    assert zalando.canvas == Canvas(width=1000, height=1440, fill=0.85, placement="bottom")
    assert zalando.encoding == Encoding(format="jpeg", quality=85,
                                        name="{stem}-{rendition}.{ext}")
    assert zalando.suffix == "_z"


def test_rendering_a_rendition_gives_the_profile_its_output_keys() -> None:
    profile = make_profile(matting=True, renditions=[
        {"name": "white"}, {"name": "cutout", "backdrop": "transparent", "square": False}])
    view = profile.rendering(profile.all_renditions[1])
    assert view.transparent and view.canvas is None and view.encoding.format == "png"
    assert view.matting == profile.matting and view.all_renditions == (
        profile.all_renditions[1],)


def test_a_rendition_without_a_canvas_keeps_the_input_size() -> None:
    profile = make_profile(square={"size": 2000}, renditions=[
        {"name": "framed"}, {"name": "aligned", "square": False, "folder": "aligned"}])
    assert profile.all_renditions[1].canvas is None


@pytest.mark.parametrize(("entry", "key", "words"), [
    ({"name": "z", "format": "gif"}, "renditions[1].format", "not a valid choice"),
    ({"name": "z", "quality": 0}, "renditions[1].quality", "out of range"),
    ({"name": "z", "backdrop": "pink"}, "renditions[1].backdrop", "not a colour"),
    ({"name": "z", "fomat": "png"}, "renditions[1].fomat", "did you mean 'format'"),
    ({"format": "png"}, "renditions[1].name", "needs a name"),
    ({"name": "z", "folder": "../elsewhere"}, "renditions[1].folder", "no '..'"),
    ({"name": "z", "folder": "/abs"}, "renditions[1].folder", "subfolder of the output"),
    ({"name": "z", "suffix": "a/b"}, "renditions[1].suffix", "path separators"),
    ({"name": "z", "file_name": "{stem}/{ext}"}, "renditions[1].file_name", "separators"),
    ({"name": "z", "file_name": "{sku}.{ext}"}, "renditions[1].file_name", "sku"),
    ({"name": "z", "canvas": {"width": 1000, "height": 1440, "fill": 2}},
     "renditions[1].canvas.fill", "out of range"),
    ({"name": "z", "backdrop": "transparent", "format": "jpeg"}, "renditions[1].format",
     "JPEG cannot hold transparency"),
    ({"name": "white"}, "renditions[1].name", "another rendition has this name"),
    ({"name": "again"}, "renditions[1]", "writes the same files as renditions[0]"),
])
def test_rendition_problems_are_reported_at_their_key_path(
        tmp_path: Path, entry: dict[str, object], key: str, words: str) -> None:
    import yaml

    text = yaml.safe_dump({"square": {"size": 1000}, "renditions": [{"name": "white"}, entry]})
    assert words in _at(_problems(tmp_path, text), key)


def test_fill_in_a_rendition_needs_a_canvas(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "renditions:\n  - {name: a, fill: 0.8}\n")
    assert "has none" in _at(problems, "renditions[0].fill")


def test_every_rendition_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "renditions:\n  - {name: a, format: gif}\n"
                                   "  - {name: b, quality: 500, dpi: 0}\n  - 7\n")
    for key in ("renditions[0].format", "renditions[1].quality", "renditions[1].dpi",
                "renditions[2]"):
        _at(problems, key)


@pytest.mark.parametrize("value", ["white", [], {"name": "white"}])
def test_renditions_must_be_a_list_of_mappings(tmp_path: Path, value: object) -> None:
    import yaml

    problems = _problems(tmp_path, yaml.safe_dump({"renditions": value}))
    assert "must be a list" in _at(problems, "renditions")


def test_renditions_of_two_profiles_into_one_output_folder_may_collide(tmp_path: Path) -> None:
    (tmp_path / "in-a").mkdir()
    (tmp_path / "in-b").mkdir()
    for name, watch, renditions in (("a", "in-a", "[{name: x}, {name: y, folder: y}]"),
                                    ("b", "in-b", "[{name: y, folder: y, format: png}]")):
        (tmp_path / f"{name}.yaml").write_text(
            f"watch: {watch}\noutput: out\nrenditions: {renditions}\n", encoding="utf-8")
    from studiocut.profiles import folders, load_dir

    assert not folders.problems(list(load_dir(tmp_path).values()), between=True)
    (tmp_path / "b.yaml").write_text("watch: in-b\noutput: out\nrenditions: [{name: y, "
                                     "folder: y}]\n", encoding="utf-8")
    assert folders.problems(list(load_dir(tmp_path).values()), between=True)


def test_a_profile_watching_a_renditions_folder_is_refused(tmp_path: Path) -> None:
    problems = _problems(tmp_path, f"watch: {tmp_path / 'out' / 'z'}\noutput: "
                                   f"{tmp_path / 'out'}\nrecursive: false\n"
                                   "renditions: [{name: a}, {name: z, folder: z}]\n")
    assert "watched folder" in _at(problems, "renditions[1].folder")


# --------------------------------------------------------------------------- sku


def test_sku_names_where_the_sku_comes_from() -> None:
    assert make_profile(sku="folder").sku == Sku("folder")
    assert make_profile(sku={"from": "sidecar", "consistent": False}).sku == Sku("sidecar",
                                                                                False)
    assert make_profile(sku="barcode").sku == Sku("barcode")
    assert make_profile().sku is None


def test_sku_and_view_in_a_name_need_the_sku_key(tmp_path: Path) -> None:
    assert make_profile(sku="folder", name="{sku}_{view}.{ext}").encoding.name == \
        "{sku}_{view}.{ext}"
    problems = _problems(tmp_path, "name: '{sku}_{view}.{ext}'\n")
    assert "need the profile's 'sku' key" in _at(problems, "name")


@pytest.mark.parametrize(("text", "key"), [
    ("sku: card\n", "sku"),
    ("sku: {from: nowhere}\n", "sku.from"),
    ("sku: {consistent: true}\n", "sku.from"),
    ("sku: {from: folder, consistant: true}\n", "sku.consistant"),
])
def test_sku_problems(tmp_path: Path, text: str, key: str) -> None:
    _at(_problems(tmp_path, text), key)


def test_a_template_without_stem_needs_both_sku_and_view(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "sku: folder\nname: '{sku}.{ext}'\n")
    assert "must contain {stem}" in _at(problems, "name")


def test_a_transparent_rendition_of_a_jpeg_profile_defaults_to_png() -> None:
    profile = make_profile(format="jpeg", renditions=[
        {"name": "white"}, {"name": "cutout", "backdrop": "transparent"},
        {"name": "webp", "backdrop": "transparent", "format": "webp"}])
    assert [r.encoding.format for r in profile.all_renditions] == ["jpeg", "png", "webp"]
    clear = make_profile(backdrop="transparent", renditions=[
        {"name": "clear"}, {"name": "white", "backdrop": "#FFFFFF"}])
    assert [r.encoding.format for r in clear.all_renditions] == ["png", "jpeg"]


# --------------------------------------------------------------------------- presets


def test_a_preset_sets_the_defaults_the_profiles_own_keys_override() -> None:
    amazon = make_profile(preset="amazon")
    assert amazon.preset == "amazon" and amazon.all_renditions[0].preset == "amazon"
    assert amazon.canvas == Canvas(width=2000, height=2000, fill=0.9)
    assert (amazon.backdrop, amazon.encoding.format, amazon.encoding.quality) == (
        (255, 255, 255), "jpeg", 95)
    mine = make_profile(preset="amazon", quality=90, square={"placement": "bottom"})
    assert mine.encoding.quality == 90
    assert mine.canvas == Canvas(width=2000, height=2000, fill=0.9, placement="bottom")
    assert make_profile(preset="amazon", square={"margin": 0.1}).canvas == Canvas(
        width=2000, height=2000, margin=0.1), "a margin replaces the preset's fill"


def test_a_renditions_preset_starts_from_the_profiles_keys_and_its_own_override_it() -> None:
    profile = make_profile(square={"size": 1000, "placement": "bottom"}, quality=80,
                           renditions=[
        {"name": "white"},
        {"name": "zalando", "preset": "zalando", "folder": "z"},
        {"name": "shop", "preset": "shopify", "quality": 70, "folder": "s"},
        {"name": "clear", "preset": "none", "backdrop": "transparent", "folder": "c"}])
    white, zalando, shop, clear = profile.all_renditions
    assert white.preset is None and white.encoding.quality == 80
    assert zalando.preset == "zalando"
    assert zalando.canvas == Canvas(width=1801, height=2600, fill=0.85, placement="bottom")
    assert zalando.encoding.quality == 92
    assert (shop.preset, shop.encoding.quality, shop.canvas and shop.canvas.size) == (
        "shopify", 70, 2048)
    assert clear.preset is None and clear.encoding.format == "png"


def test_renditions_inherit_the_profiles_preset_unless_they_say_none() -> None:
    profile = make_profile(preset="ebay", renditions=[
        {"name": "ebay"}, {"name": "cutout", "preset": "none", "backdrop": "transparent",
                           "folder": "c"}])
    assert [r.preset for r in profile.all_renditions] == ["ebay", None]
    assert profile.all_renditions[1].encoding.format == "png"


@pytest.mark.parametrize(("text", "key"), [
    ("preset: amazn\n", "preset"),
    ("renditions: [{name: a, preset: 7}]\n", "renditions[0].preset"),
])
def test_an_unknown_preset_lists_the_marketplaces(tmp_path: Path, text: str, key: str) -> None:
    problem = _at(_problems(tmp_path, text), key)
    assert "unknown marketplace preset" in problem and "zalando" in problem


@pytest.mark.parametrize("sku", ["folder", "sidecar", "barcode"])
def test_a_cluster_profile_takes_renditions_and_skus_like_a_local_one(sku: str) -> None:
    """The station decides SKU and view and publishes every rendition; the workers render
    them all from one cut-out (tests/cluster), so nothing of it is refused."""
    pytest.importorskip("celery", reason="the cluster extra (celery[redis]) is not installed")
    keys = {"sku": sku, "name": "{sku}_{view}.{ext}", "square": {"size": 500},
            "renditions": [{"name": "white"}, {"name": "cut", "backdrop": "transparent",
                                               "folder": "cut"}]}
    remote = make_profile(**keys, executor="cluster", queue="cutout")
    local = make_profile(**keys)

    assert remote.dispatch.remote and not local.dispatch.remote
    assert (remote.renditions, remote.sku) == (local.renditions, local.sku)
