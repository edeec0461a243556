"""matte: the model's coarse mask to alpha at the working resolution, and soft edges.

pymatting compiles with numba on first use (cached afterwards): images here stay small."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from studiocut.imaging import matte
from studiocut.profiles import Matting

# --------------------------------------------------------------------------- upsample


def blob_mask() -> np.ndarray:
    """A 40 x 40 mask: a hard rectangle (cubic interpolation overshoots its edges) plus noise."""
    rng = np.random.default_rng(7)
    mask = (rng.random((40, 40)) * 0.2).astype(np.float32)
    mask[10:30, 12:28] = 1.0
    return mask


@pytest.mark.parametrize(
    ("frame", "region"),
    [((400, 400), (37, 91, 301, 250)), ((333, 217), (5, 7, 300, 200)), ((97, 61), (3, 5, 90, 60))],
)
def test_upsample_of_a_region_agrees_with_the_whole_frame(
    frame: tuple[int, int], region: tuple[int, int, int, int]
) -> None:
    mask = blob_mask()
    whole = matte.upsample(mask, frame, (0, 0, *frame))
    part = matte.upsample(mask, frame, region)

    x0, y0, x1, y1 = region
    assert whole.shape == (frame[1], frame[0])
    assert part.shape == (y1 - y0, x1 - x0)
    assert np.abs(whole[y0:y1, x0:x1] - part).max() < 1e-4


def test_upsample_aligns_pixel_centres() -> None:
    # a left-right symmetric mask stays symmetric only if pixel centres map onto pixel
    # centres; mapping corners (x * scale) would shift it by a fraction of a pixel
    mask = np.zeros((10, 10), dtype=np.float32)
    mask[3:7, 2:8] = 1.0
    mask[4, 1] = mask[4, 8] = 0.5
    assert np.array_equal(mask, mask[:, ::-1])
    up = matte.upsample(mask, (40, 40), (0, 0, 40, 40))

    assert np.abs(up - up[:, ::-1]).max() < 1e-4
    # and it matches OpenCV's own centre-aligned resize
    reference = np.clip(cv2.resize(mask, (40, 40), interpolation=cv2.INTER_CUBIC), 0, 1)
    assert np.abs(up - reference).max() < 1e-4


def test_upsample_to_another_size_samples_where_those_pixels_fall() -> None:
    # region 200 x 120 of a 400 x 400 frame made at 100 x 60: output pixel u covers frame
    # pixels 2u and 2u + 1, so it is sampled halfway between their centres
    mask = blob_mask()
    frame, region = (400, 400), (37, 91, 237, 211)
    whole = matte.upsample(mask, frame, region)
    half = matte.upsample(mask, frame, region, (100, 60))

    assert half.shape == (60, 100)
    between = (whole[0::2, 0::2] + whole[1::2, 1::2] + whole[0::2, 1::2] + whole[1::2, 0::2]) / 4
    assert np.abs(half - between).max() < 0.03  # the cubic's curvature, at the hard edges
    assert np.abs(half - whole[0::2, 0::2]).max() > 0.06  # half a pixel off is far worse


def test_upsample_keeps_values_within_0_and_1() -> None:
    up = matte.upsample(blob_mask(), (333, 217), (0, 0, 333, 217))
    assert up.dtype == np.float32
    assert up.min() >= 0.0 and up.max() <= 1.0
    assert up.max() == 1.0 and up.min() < 0.05  # clipped, not squashed


# --------------------------------------------------------------------------- trimap


def test_trimap_marks_a_band_of_the_radius_around_the_half_contour() -> None:
    alpha = np.zeros((30, 40), dtype=np.float32)
    alpha[:, 20:] = 1.0  # the 0.5 contour runs between columns 19 and 20
    tri = matte.trimap(alpha, 4)

    assert set(np.unique(tri)) == {0.0, 0.5, 1.0}
    unknown_columns = np.nonzero((tri == 0.5).all(axis=0))[0]
    assert list(unknown_columns) == list(range(16, 24))  # 4 columns each side
    assert (tri[:, :16] == 0.0).all()
    assert (tri[:, 24:] == 1.0).all()


def test_trimap_band_follows_a_round_contour() -> None:
    yy, xx = np.mgrid[0:80, 0:80]
    r = np.hypot(xx - 39.5, yy - 39.5)
    alpha = (r < 25).astype(np.float32)
    tri = matte.trimap(alpha, 5)

    assert (tri[r < 19] == 1.0).all()
    assert (tri[r > 31] == 0.0).all()
    assert (tri[np.abs(r - 25) < 4] == 0.5).all()


# --------------------------------------------------------------------------- refine


def disc_scene(n: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A red disc with a soft edge on a blue backdrop: the image, its true alpha and the
    hard mask a segmentation model would give."""
    yy, xx = np.mgrid[0:n, 0:n]
    r = np.hypot(xx - (n - 1) / 2, yy - (n - 1) / 2)
    radius = n / 3
    true = np.clip((radius - r) / 5.0 + 0.5, 0.0, 1.0)  # a ramp 5 px wide
    fg, bg = np.array([220.0, 60.0, 40.0]), np.array([40.0, 90.0, 200.0])
    rng = np.random.default_rng(11)
    image = true[..., None] * fg + (1 - true[..., None]) * bg + rng.normal(0, 1.5, (n, n, 3))
    rgb = np.clip(image + 0.5, 0, 255).astype(np.uint8)
    hard = (r < radius).astype(np.float32)
    return rgb, true.astype(np.float32), hard


def test_refine_with_matting_off_returns_alpha_unchanged() -> None:
    rgb, _, hard = disc_scene()
    assert matte.refine(hard, rgb, Matting(enabled=False)) is hard


@pytest.mark.parametrize("blur", [0.0, 4.0])  # a hard mask, an over-blurred one
def test_refine_recovers_the_soft_edge_of_a_known_matte(blur: float) -> None:
    rgb, true, hard = disc_scene()
    mask = cv2.GaussianBlur(hard, (0, 0), blur) if blur else hard
    edge = (true > 0.0) & (true < 1.0)
    edge = cv2.dilate(edge.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)

    refined = matte.refine(mask, rgb, Matting(enabled=True, band=0.05))

    assert refined.shape == true.shape and refined.dtype == np.float32
    before = np.abs(mask - true)[edge].mean()
    after = np.abs(refined - true)[edge].mean()
    assert before > 0.05  # the input really is wrong at the edge
    assert after < before / 4  # matting cuts the edge error by at least three quarters
    assert after < 0.02  # measured: 0.004
    assert refined.min() >= 0.0 and refined.max() <= 1.0


def test_closed_form_solves_to_the_alpha_of_pymattings_own_settings() -> None:
    """The sparser preconditioner changes how the solve gets there, not where it ends."""
    from pymatting import estimate_alpha_cf

    rgb, _, hard = disc_scene(160)
    tri = matte.trimap(hard, 6)

    ours = matte.closed_form(rgb, tri)

    theirs = estimate_alpha_cf(rgb.astype(np.float64) / 255.0, tri)
    assert ours.dtype == np.float32
    assert np.abs(ours - theirs).max() < 1e-3


def test_refine_solves_a_large_image_smaller_and_returns_the_full_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rgb, true, hard = disc_scene(240)  # 57 600 pixels
    solved_shapes: list[tuple[int, ...]] = []
    solve = matte.closed_form

    def spy(image: np.ndarray, tri: np.ndarray) -> np.ndarray:
        solved_shapes.append(tri.shape)
        return solve(image, tri)

    monkeypatch.setattr(matte, "closed_form", spy)
    refined = matte.refine(hard, rgb, Matting(enabled=True, band=0.05, max_pixels=14_400))

    assert solved_shapes == [(120, 120)]  # solved at a quarter of the pixels
    assert refined.shape == (240, 240)
    assert refined.min() >= 0.0 and refined.max() <= 1.0
    r = np.hypot(*(np.mgrid[0:240, 0:240] - 119.5))
    assert refined[r < 60].min() > 0.95 and refined[r > 100].max() < 0.05
    edge = (true > 0.0) & (true < 1.0)
    assert np.abs(refined - true)[edge].mean() < np.abs(hard - true)[edge].mean()


def test_refine_without_an_edge_returns_alpha_unchanged() -> None:
    rgb = np.full((50, 50, 3), 128, dtype=np.uint8)
    empty = np.zeros((50, 50), dtype=np.float32)
    assert matte.refine(empty, rgb, Matting(enabled=True)) is empty


# --------------------------------------------------------------------------- edges (issue 5)


def _soft_disc(h: int = 200, w: int = 300, edge: float = 20.0):
    yy, xx = np.mgrid[0:h, 0:w]
    radius = np.hypot(xx - w / 2, yy - h / 2)
    alpha = np.clip((70 - radius) / edge, 0, 1).astype(np.float32)
    fg = np.dstack([200 + 30 * np.sin(xx / 9), 120 + 20 * np.cos(yy / 7), 40 + 0 * xx])
    bg = np.dstack([30 + 0 * xx, 160 + 40 * (yy / h), 60 + 0 * xx])
    image = alpha[..., None] * fg + (1 - alpha[..., None]) * bg
    return np.clip(image, 0, 255).astype(np.uint8), alpha, fg.astype(np.float32)


def test_foreground_removes_the_old_backdrop_from_soft_edges() -> None:
    image, alpha, truth = _soft_disc()
    band = (alpha > 0.05) & (alpha < 0.95)

    recovered = matte.foreground(image, alpha)

    raw_error = np.abs(image[band].astype(np.float32) - truth[band]).mean()
    error = np.abs(recovered[band].astype(np.float32) - truth[band]).mean()
    assert raw_error > 30  # the green backdrop bleeds into the edge
    assert error < raw_error / 5  # stated margin: five times closer to the true colour
    assert np.array_equal(recovered[alpha >= 0.996], image[alpha >= 0.996])
    assert np.array_equal(recovered[alpha <= 0.004], image[alpha <= 0.004])


def test_foreground_on_white_leaves_no_green_fringe() -> None:
    from studiocut.imaging import composite

    image, alpha, _ = _soft_disc()
    plain = composite.over(image, alpha, (255, 255, 255)).astype(np.int16)
    clean = composite.over(matte.foreground(image, alpha), alpha, (255, 255, 255)).astype(
        np.int16)
    band = (alpha > 0.1) & (alpha < 0.9)
    green_excess = lambda out: (out[..., 1] - (out[..., 0] + out[..., 2]) / 2)[band].mean()  # noqa: E731
    assert green_excess(plain) > green_excess(clean) + 15


def test_foreground_without_an_edge_returns_the_image_itself() -> None:
    image = np.zeros((10, 10, 3), np.uint8)
    assert matte.foreground(image, np.ones((10, 10), np.float32)) is image


def test_trimap_marks_where_the_mask_is_unsure_as_unknown() -> None:
    alpha = np.zeros((60, 60), np.float32)
    alpha[:, 30:] = 1.0
    alpha[5:15, 5:15] = 0.45  # an unsure patch far from the 0.5 contour
    plain = matte.trimap(alpha, 2)
    aware = matte.trimap(alpha, 2, uncertain=(0.3, 0.7), grow=2)
    assert plain[10, 10] == 0.0
    assert aware[10, 10] == 0.5 and aware[3, 10] == 0.5  # grown by 2 px
    assert aware[30, 45] == 1.0 and aware[30, 20] == 0.0


def test_matting_defaults_are_the_measured_ones() -> None:
    from studiocut.profiles import Matting

    defaults = Matting()
    assert (defaults.band, defaults.uncertain, defaults.grow) == (0.00625, (0.3, 0.7), 0.0125)


# ===========================================================================================
# Decontamination where the frame has no solid subject or no backdrop. (Appended section;
# the tests above are unchanged.)
# ===========================================================================================


def _wire(width: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A gold wire ``width`` px thick across a green screen: no pixel of it is solid at
    the quarter size that foreground() estimates colours at."""
    yy = np.mgrid[0:200, 0:300][0]
    alpha = np.clip((width / 2 - np.abs(yy - 100.0)) / 1.5 + 0.5, 0, 1).astype(np.float32)
    gold, green = np.array((220, 180, 60), np.float32), np.array((0, 177, 64), np.float32)
    image = alpha[..., None] * gold + (1 - alpha[..., None]) * green
    return (image + 0.5).astype(np.uint8), alpha, gold


def test_foreground_of_a_thin_wire_keeps_its_own_colour_on_white() -> None:
    from studiocut.imaging import composite

    image, alpha, gold = _wire(3.0)
    band = (alpha > 0.004) & (alpha < 0.996)
    truth = alpha[..., None] * gold + (1 - alpha[..., None]) * 255.0

    clean = composite.over(matte.foreground(image, alpha), alpha, (255, 255, 255))

    # measured: 0.4 levels from the truth (8.6, and darker, when it leaned on a black
    # "subject colour" for want of a solid pixel; 10.5 for the naive blend)
    assert np.abs(clean.astype(np.float32) - truth)[band].mean() < 2


def test_foreground_with_no_backdrop_in_the_frame_returns_the_image_itself() -> None:
    image, alpha, _ = _soft_disc()
    inner = np.s_[40:160, 80:220]  # the disc's soft edge, with no pure backdrop left
    crop, crop_alpha = np.ascontiguousarray(image[inner]), np.maximum(alpha[inner], 0.3)
    assert ((crop_alpha > 0.004) & (crop_alpha < 0.996)).any()

    assert matte.foreground(crop, crop_alpha) is crop


def test_refine_says_so_when_the_trimap_holds_no_sure_subject() -> None:
    """pymatting refuses a trimap without foreground ("Trimap did not contain foreground
    values"): a mask that is only half sure of the subject gives one."""
    alpha = np.zeros((100, 100), np.float32)
    alpha[30:70, 30:70] = 0.55
    rgb = np.full((100, 100, 3), 200, np.uint8)
    rgb[30:70, 30:70] = (200, 30, 30)

    with pytest.raises(matte.MattingFailed, match="foreground"):
        matte.refine(alpha, rgb, Matting(enabled=True))


def test_near_maps_band_pixels_to_the_smaller_picture_even_past_32_bit_indices() -> None:
    # a very long frame: its last indices do not fit 32 bits, its smaller picture's do
    width, step = 32_100_000, 4
    small = (16, width // step)
    band = np.array([0, 5, width + 7, 63 * width + width - 1, 67 * width - 1], dtype=np.intp)

    near = matte._near(band, width, step, small)

    ys, xs = np.divmod(band, width)
    expected = np.minimum(ys // step, small[0] - 1) * small[1] + np.minimum(xs // step,
                                                                             small[1] - 1)
    assert np.array_equal(near, expected)
