"""barcode: a card that holds only a barcode gives its code; a product whose box shows one,
a photo with no code and a card with two codes do not. The codes are written by zxing-cpp
in the test and photographed synthetically (tests/barcode_scenes.py)."""

from __future__ import annotations

import logging

import cv2
import numpy as np
import pytest
import zxingcpp

import barcode_scenes as scenes
from studiocut.imaging import barcode

F = zxingcpp.BarcodeFormat
EAN = "4006381333931"


def codes_in(photo: np.ndarray) -> list[str]:
    """What zxing-cpp reads in the photo, card or not."""
    grey = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    found = zxingcpp.read_barcodes(grey, formats=barcode.FORMATS, try_downscale=False)
    return [c.text for c in found]


@pytest.mark.parametrize(("text", "fmt", "module", "expected"), [
    (EAN, F.EAN13, 3, EAN),
    ("036000291452", F.UPCA, 3, "0036000291452"),  # UPC-A as its GTIN-13
    ("SKU-4711-B", F.Code128, 3, "SKU-4711-B"),
    ("SKU-4711-B", F.QRCode, 8, "SKU-4711-B"),
])
def test_a_card_gives_its_code(text: str, fmt: zxingcpp.BarcodeFormat, module: int,
                               expected: str) -> None:
    photo = scenes.card([scenes.code(text, fmt, module)], angle=3.0)

    assert barcode.read_card(scenes.preview(photo)) == expected


@pytest.mark.parametrize("angle", [-6.0, 90.0, 180.0])
def test_a_tilted_or_turned_card_is_read(angle: float) -> None:
    photo = scenes.card([scenes.code(EAN, F.EAN13)], angle=angle, seed=3)

    assert barcode.read_card(scenes.preview(photo)) == EAN


def test_a_card_with_the_sku_written_under_the_code_is_still_a_card() -> None:
    photo = scenes.card([scenes.code(EAN, F.EAN13)], label=f"SKU {EAN}")

    assert barcode.read_card(scenes.preview(photo)) == EAN


def test_a_white_card_on_a_white_sweep_is_read() -> None:
    photo = scenes.card([scenes.code(EAN, F.EAN13)], backdrop=(250, 250, 250))

    assert barcode.read_card(scenes.preview(photo)) == EAN


def test_a_large_photo_is_reduced_before_reading() -> None:
    photo = scenes.card([scenes.code(EAN, F.EAN13, 9)], size=(3000, 2250))

    assert barcode.read_card(photo) == EAN


def test_a_product_whose_box_shows_a_barcode_is_not_a_card(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=barcode.__name__)
    photo = scenes.preview(scenes.product(barcode=scenes.code(EAN, F.EAN13, 3)))

    assert codes_in(photo) == [EAN], "the code is readable: the texture decides"
    assert barcode.read_card(photo) is None
    assert "amid texture" in caplog.text


def test_a_small_barcode_on_a_box_is_not_a_card(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=barcode.__name__)
    photo = scenes.preview(scenes.product(barcode=scenes.code(EAN, F.EAN13, 2)))

    assert codes_in(photo) == [EAN]
    assert barcode.read_card(photo) is None
    assert "too fine" in caplog.text


def test_an_ean_with_bars_too_fine_to_trust_is_not_taken(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=barcode.__name__)
    photo = scenes.preview(scenes.card([scenes.code(EAN, F.EAN13, 2)]), long_side=680)

    assert codes_in(photo) == [EAN], "zxing-cpp reads it, at 1.4 px a bar"
    assert barcode.read_card(photo) is None
    assert "too fine to trust its check digit" in caplog.text


def test_a_product_without_a_code_is_not_a_card() -> None:
    photo = scenes.preview(scenes.product())

    assert codes_in(photo) == []
    assert barcode.read_card(photo) is None


def test_a_card_with_two_codes_is_not_a_card() -> None:
    photo = scenes.preview(scenes.card([scenes.code(EAN, F.EAN13, 2),
                                        scenes.code("SKU-4711-B", F.QRCode, 5)]))

    assert sorted(codes_in(photo)) == sorted([EAN, "SKU-4711-B"])
    assert barcode.read_card(photo) is None


def test_a_plain_backdrop_alone_is_not_a_card() -> None:
    photo = scenes.camera(np.full((562, 750, 3), scenes.BACKDROP, dtype=np.uint8), seed=1)

    assert barcode.read_card(photo) is None
