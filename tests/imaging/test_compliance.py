"""compliance: encoded renditions judged against the marketplace presets, as the marketplace
would see them. Every rendition is built with numpy, put on its backdrop by studiocut's own
compositing and encoded by studiocut's encoder."""

from __future__ import annotations

import dataclasses
import io

import cv2
import numpy as np
import pytest
from PIL import Image

from image_files import save, swap_icc_tags
from studiocut.imaging import compliance, composite, decode, encode
from studiocut.profiles import Encoding, presets
from studiocut.profiles.presets import Preset

WHITE = (255, 255, 255)


def subject_alpha(size: tuple[int, int], fill: float) -> np.ndarray:
    """A soft-edged ellipse, ``fill`` of the canvas tall and narrower than the canvas's
    shape, so its height is the limiting side: it fills ``fill`` of the frame."""
    width, height = size
    yy, xx = np.mgrid[:height, :width].astype(np.float32)
    ry, rx = fill * height / 2, fill * height * min(width / height, 1) * 0.3
    inside = ((yy + 0.5 - height / 2) / ry) ** 2 + ((xx + 0.5 - width / 2) / rx) ** 2
    alpha = np.clip((1 - inside) * min(rx, ry) / 2, 0, 1)  # a ramp about 2 px wide
    return alpha.astype(np.float32)


def rendition(size: tuple[int, int], *, fill: float,
              backdrop: tuple[int, int, int] = WHITE) -> tuple[np.ndarray, np.ndarray]:
    """A noisy subject (the worst case for JPEG ringing) on ``backdrop``: RGB and alpha."""
    width, height = size
    alpha = subject_alpha(size, fill)
    texture = np.random.default_rng(7).integers(0, 200, (height, width, 3), dtype=np.uint8)
    return composite.over(texture, alpha, backdrop), alpha


def encoded(image: np.ndarray, preset: Preset, **change: object) -> bytes:
    enc = dataclasses.replace(preset.encoding(), **change)
    return encode.encode(image, enc, icc=decode.srgb_icc(), metadata=None)


# --------------------------------------------------------------------------- compliant


@pytest.mark.parametrize("name", presets.NAMES)
def test_the_presets_own_rendition_complies(name: str) -> None:
    preset = presets.get(name)
    image, alpha = rendition(preset.canvas, fill=preset.fill, backdrop=preset.backdrop or WHITE)

    assert compliance.check(encoded(image, preset), preset, subject=alpha) == ()


def test_jpeg_ringing_beside_the_subject_is_not_taken_for_the_backdrop() -> None:
    preset = presets.get("amazon")
    image, alpha = rendition((800, 800), fill=0.9)
    data = encoded(image, preset, quality=80)
    pixels = np.asarray(Image.open(io.BytesIO(data)))
    ringing = (alpha == 0) & (pixels.min(axis=2) < 255)

    assert ringing.sum() > 1000, "the subject's blocks ring: the case this test is about"
    assert compliance.check(data, dataclasses.replace(preset, min_long=0), subject=alpha) == ()


@pytest.mark.parametrize("quality", [50, 75, 92, 95, 100])
def test_studiocuts_jpeg_keeps_pure_white_beyond_one_block_of_the_subject(quality: int) -> None:
    image, alpha = rendition((512, 512), fill=0.8)
    data = encode.encode(image, Encoding(quality=quality), icc=None, metadata=None)
    pixels = np.asarray(Image.open(io.BytesIO(data)))
    near = cv2.dilate((alpha > 0).astype(np.uint8), np.ones((33, 33), np.uint8))

    assert pixels[near == 0].min() == 255


def test_a_subject_given_at_another_size_of_the_same_shape_is_scaled() -> None:
    preset = presets.get("amazon")
    image, alpha = rendition(preset.canvas, fill=0.9)
    half = cv2.resize(alpha, (1000, 1000), interpolation=cv2.INTER_AREA)

    assert compliance.check(encoded(image, preset), preset, subject=half) == ()
    assert compliance.check(encoded(image, preset), preset, subject=half > 0) == ()


# --------------------------------------------------------------------------- not compliant


def test_amazon_flags_an_off_white_backdrop_with_the_count_and_lowest_value() -> None:
    preset = presets.get("amazon")
    image, alpha = rendition(preset.canvas, fill=0.9)
    image[16:48, 16:48] = 253  # four whole JPEG blocks of near-white in a corner

    reasons = compliance.check(encoded(image, preset), preset, subject=alpha)

    assert reasons == ("amazon: backdrop not pure white (1024 pixels below 255, lowest 253)",)


def test_amazon_flags_a_product_that_fills_too_little_of_the_frame() -> None:
    preset = presets.get("amazon")
    image, alpha = rendition(preset.canvas, fill=0.6)

    reasons = compliance.check(encoded(image, preset), preset, subject=alpha)

    assert len(reasons) == 1
    assert reasons[0].startswith("amazon: the subject fills 60.")
    assert reasons[0].endswith("% of the frame (at least 85%)")


def test_amazon_flags_a_frame_without_a_subject() -> None:
    preset = presets.get("amazon")
    image, alpha = rendition(preset.canvas, fill=0.9)

    reasons = compliance.check(encoded(image, preset), preset, subject=np.zeros_like(alpha))

    assert "amazon: no subject to measure how much of the frame it fills" in reasons


def test_walmart_flags_a_canvas_that_is_neither_square_nor_large_enough() -> None:
    preset = presets.get("walmart")
    image, alpha = rendition((1400, 1200), fill=0.85)

    reasons = compliance.check(encoded(image, preset), preset, subject=alpha)

    assert reasons == ("walmart: 1400 x 1200 px: the shorter side is under 1500 px",
                       "walmart: 1400 x 1200 px is not 1:1 (width:height)")


def test_walmart_flags_a_shadow_left_on_the_white_backdrop() -> None:
    preset = presets.get("walmart")
    image, alpha = rendition(preset.canvas, fill=0.85)
    image[1950:1990, 800:1400] = 200  # a contact shadow below the subject's box

    reasons = compliance.check(encoded(image, preset), preset, subject=alpha)

    assert len(reasons) == 1 and reasons[0].startswith("walmart: backdrop not pure white (")


def test_zalando_flags_a_png_too_small_for_its_minimum() -> None:
    preset = presets.get("zalando")
    image, alpha = rendition((700, 1008), fill=0.85)

    reasons = compliance.check(encoded(image, preset, format="png"), preset, subject=alpha)

    assert reasons == ("zalando: png files are not accepted (accepted: jpeg)",
                       "zalando: 700 x 1008 px: the shorter side is under 762 px",
                       "zalando: 700 x 1008 px: the longer side is under 1100 px")


def test_zalando_flags_a_square_canvas() -> None:
    preset = presets.get("zalando")
    image, alpha = rendition((1800, 1800), fill=0.85)

    reasons = compliance.check(encoded(image, preset), preset, subject=alpha)

    assert reasons == ("zalando: 1800 x 1800 px is not 1:1.44 (width:height)",)


def test_etsy_flags_webp() -> None:
    preset = presets.get("etsy")
    image, alpha = rendition((1200, 900), fill=0.8)

    reasons = compliance.check(encoded(image, preset, format="webp"), preset, subject=alpha)

    assert reasons == ("etsy: webp files are not accepted (accepted: jpeg, png, gif)",)


def test_etsy_flags_a_file_over_its_cap() -> None:
    preset = dataclasses.replace(presets.get("etsy"), max_bytes=200_000)
    image, alpha = rendition((1200, 900), fill=0.8)
    data = encoded(image, preset)

    reasons = compliance.check(data, preset, subject=alpha)

    assert reasons == (f"etsy: the file is {len(data) / 1e6:.1f} MB (at most 0.2 MB)",)


def test_shopify_flags_a_side_over_its_maximum() -> None:
    preset = presets.get("shopify")
    image, alpha = rendition((5200, 64), fill=0.85)

    reasons = compliance.check(encoded(image, preset), preset, subject=alpha)

    assert reasons == ("shopify: 5200 x 64 px: the longer side is over 5000 px",)


def test_shopify_flags_too_many_pixels() -> None:
    preset = dataclasses.replace(presets.get("shopify"), max_pixels=1_000_000)
    image, alpha = rendition((1100, 1000), fill=0.85)

    reasons = compliance.check(encoded(image, preset), preset, subject=alpha)

    assert reasons == ("shopify: 1100 x 1000 px is 1.1 MP (at most 1 MP)",)


def test_ebay_flags_a_photo_under_500_px() -> None:
    preset = presets.get("ebay")
    image, alpha = rendition((480, 360), fill=0.85)

    reasons = compliance.check(encoded(image, preset), preset, subject=alpha)

    assert reasons == ("ebay: 480 x 360 px: the longer side is under 500 px",)


def test_google_flags_a_tiny_image_in_another_colour_space() -> None:
    preset = presets.get("google")
    image, alpha = rendition((90, 90), fill=0.8)
    not_srgb = swap_icc_tags(decode.srgb_icc(), b"rXYZ", b"bXYZ")
    data = encode.encode(image, preset.encoding(), icc=not_srgb, metadata=None)

    reasons = compliance.check(data, preset, subject=alpha)

    assert reasons == ("google: the embedded colour profile is not sRGB",
                       "google: 90 x 90 px: the shorter side is under 100 px")


# --------------------------------------------------------------------------- files


def test_a_lossless_backdrop_is_checked_up_to_the_subject() -> None:
    preset = presets.get("amazon")
    image, alpha = rendition((1200, 1200), fill=0.9)
    box = np.argwhere(alpha > 0)
    y, x = box[:, 0].min() - 2, int(np.median(box[:, 1]))  # 2 px above the subject's top
    image[y, x] = 254

    reasons = compliance.check(encoded(image, preset, format="png"), preset, subject=alpha)

    assert reasons == ("amazon: backdrop not pure white (1 pixel below 255, lowest 254)",)


def test_a_transparent_backdrop_is_not_white() -> None:
    preset = presets.get("amazon")
    image, alpha = rendition((1200, 1200), fill=0.9)
    rgba = composite.over(image, alpha, None)

    reasons = compliance.check(encoded(rgba, preset, format="png"), preset, subject=alpha)

    transparent = int((alpha == 0).sum())
    assert reasons == (f"amazon: backdrop not pure white ({transparent} pixels transparent)",)


def test_a_cmyk_file_is_not_rgb() -> None:
    preset = presets.get("ebay")
    image, alpha = rendition((600, 600), fill=0.85)
    data = save(Image.fromarray(image).convert("CMYK"), "JPEG", quality=95)

    reasons = compliance.check(data, preset, subject=alpha)

    assert reasons == ("ebay: colour mode CMYK, not RGB",)


def test_what_is_not_an_image_or_a_subject_of_another_shape_is_refused() -> None:
    preset = presets.get("amazon")
    image, alpha = rendition((400, 300), fill=0.9)

    with pytest.raises(ValueError, match="not an image"):
        compliance.check(b"not an image at all", preset, subject=alpha)
    with pytest.raises(ValueError, match="300 x 300"):
        compliance.check(encoded(image, preset), preset, subject=np.zeros((300, 300)))
