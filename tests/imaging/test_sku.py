"""sku: the SKU from a photo's subfolder or sidecar, and the cleaning that keeps ``{sku}`` a
plain part of a file name whatever a folder, a sidecar or a barcode says."""

from __future__ import annotations

import os
import random
import unicodedata
from pathlib import Path

import pytest

from studiocut.errors import InputError
from studiocut.imaging import sku

# --------------------------------------------------------------------------- clean


@pytest.mark.parametrize(("raw", "expected"), [
    ("A1234", "A1234"),
    ("  A1234\n", "A1234"),
    ("4006381333931", "4006381333931"),
    ("shirt red XL", "shirt red XL"),
    ("AB/12", "AB_12"),
    ("AB\\12", "AB_12"),
    ("../../etc/passwd", "_.._etc_passwd"),
    ("C:AB", "C_AB"),
    ('a*b?c"d<e>f|g', "a_b_c_d_e_f_g"),
    ("AB\x0012", "AB_12"),
    ("AB\t12\r\n", "AB_12"),
    ("AB\u00a012", "AB_12"),  # a no-break space
    ("cod\u202egpj.exe", "cod_gpj.exe"),  # a right-to-left override
    ("AB\u200b12", "AB_12"),  # a zero-width space
    (".hidden", "hidden"),
    ("SKU. ", "SKU"),
    ("CON", "CON_"),
    ("lpt1.txt", "lpt1.txt_"),
    ("CONSOLE", "CONSOLE"),
    ("Cafe\u0301", "Caf\u00e9"),  # decomposed, as macOS writes folder names
])
def test_clean_keeps_a_sku_a_plain_part_of_a_file_name(raw: str, expected: str) -> None:
    assert sku.clean(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", ".", "..", "...", " . ", "\n"])
def test_clean_gives_none_when_nothing_usable_is_left(raw: str) -> None:
    assert sku.clean(raw) is None


def test_a_long_sku_is_cut_with_a_hash_so_two_stay_apart() -> None:
    first, second = "X" * 150 + "-1", "X" * 150 + "-2"

    a, b = sku.clean(first), sku.clean(second)

    assert a is not None and b is not None and a != b
    assert len(os.fsencode(a)) <= sku.MAX_SKU and a.startswith("X" * 80)


def test_no_text_cleans_into_a_name_that_leaves_its_folder() -> None:
    rng = random.Random(19)
    alphabet = "aZ09 ./\\:-_\x00\x1f\x7f\u202e\u200b\u00a0\u2028e\u0301"
    for _ in range(3000):
        raw = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        name = sku.clean(raw)
        if name is None:
            continue
        file = f"{name}_1.jpg"
        assert os.path.basename(file) == file and not name.startswith(".")
        assert name not in (".", "..") and not name.endswith((" ", "."))
        assert all(unicodedata.category(c)[0] != "C" for c in name), repr(name)
        assert unicodedata.is_normalized("NFC", name)


# --------------------------------------------------------------------------- subfolder


@pytest.mark.parametrize(("subfolder", "expected"), [
    (Path("A1234"), "A1234"),
    (Path("A1234/detail/left"), "A1234"),
    (Path("./A1234"), "A1234"),
    (Path(" A1234 "), "A1234"),
    (Path("A:12"), "A_12"),
    (Path("."), None),
    (Path(), None),
    (Path("..."), None),
])
def test_the_first_folder_level_is_the_sku(subfolder: Path, expected: str | None) -> None:
    assert sku.from_subfolder(subfolder) == expected


@pytest.mark.parametrize("subfolder", [Path("/srv/inbox/A1234"), Path("../A1234"),
                                       Path("A1234/../../B")])
def test_a_subfolder_outside_the_watched_folder_is_refused(subfolder: Path) -> None:
    with pytest.raises(ValueError, match="not a folder inside"):
        sku.from_subfolder(subfolder)


# --------------------------------------------------------------------------- sidecars


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "front.jpg"
    path.write_bytes(b"\xff\xd8 not decoded here")
    return path


def test_no_sidecar_gives_no_sku(photo: Path) -> None:
    assert sku.from_sidecar(photo) is None


def test_the_photos_json_sidecar_names_its_sku(photo: Path) -> None:
    (photo.parent / "front.json").write_text('{"sku": "A-1234", "shot_by": "Kim"}')

    assert sku.from_sidecar(photo) == "A-1234"


def test_a_raw_and_a_jpeg_of_one_shot_share_the_sidecar(photo: Path) -> None:
    (photo.parent / "front.json").write_text('{"sku": 4006381333931}')

    assert sku.from_sidecar(photo.with_suffix(".CR3")) == "4006381333931"


def test_the_folders_sku_txt_names_every_photo_in_it(photo: Path) -> None:
    (photo.parent / "sku.txt").write_bytes(b"\xef\xbb\xbf\r\n  B-77 \r\nnotes\r\n")

    assert sku.from_sidecar(photo) == "B-77"
    assert sku.from_sidecar(photo.with_name("back.jpg")) == "B-77"


def test_the_photos_own_sidecar_wins_over_the_folders(photo: Path) -> None:
    (photo.parent / "sku.txt").write_text("FOLDER")
    (photo.parent / "front.json").write_text('{"sku": "OWN"}')

    assert sku.from_sidecar(photo) == "OWN"
    assert sku.from_sidecar(photo.with_name("back.jpg")) == "FOLDER"


def test_a_json_sidecar_without_a_sku_leaves_it_to_the_folder(photo: Path) -> None:
    (photo.parent / "front.json").write_text('{"rating": 4}')
    (photo.parent / "sku.txt").write_text("FOLDER\n")

    assert sku.from_sidecar(photo) == "FOLDER"


def test_the_sidecars_sku_is_cleaned(photo: Path) -> None:
    (photo.parent / "front.json").write_text('{"sku": "../../outside"}')

    assert sku.from_sidecar(photo) == "_.._outside"


@pytest.mark.parametrize(("name", "content", "problem"), [
    ("front.json", b'{"sku": "A1', "not JSON"),
    ("front.json", b'{"sku": ["A1"]}', "must be a string"),
    ("front.json", b'{"sku": true}', "must be a string"),
    ("front.json", b'{"sku": " .. "}', "nothing usable"),
    ("sku.txt", b"\n  \n", "holds no SKU"),
    ("sku.txt", b"A\xff1", "not UTF-8"),
    ("sku.txt", b"A" * (64 * 1024 + 1), "over 64 KB"),
])
def test_a_broken_sidecar_fails_the_photo_with_the_reason(photo: Path, name: str,
                                                          content: bytes, problem: str) -> None:
    (photo.parent / name).write_bytes(content)

    with pytest.raises(InputError, match=problem) as caught:
        sku.from_sidecar(photo)

    assert caught.value.reason == "bad-sidecar" and name in str(caught.value)


def test_a_sidecar_that_is_a_link_is_not_followed(photo: Path, tmp_path: Path) -> None:
    secret = tmp_path / "elsewhere.txt"
    secret.write_text("SECRET")
    (photo.parent / "sku.txt").symlink_to(secret)

    with pytest.raises(InputError, match="links are not followed"):
        sku.from_sidecar(photo)


def test_a_folder_named_like_a_sidecar_is_refused(photo: Path) -> None:
    (photo.parent / "front.json").mkdir()

    with pytest.raises(InputError, match="not a regular file"):
        sku.from_sidecar(photo)
