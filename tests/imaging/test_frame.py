"""frame: where the subject goes in the output, and which source pixels that needs."""

from __future__ import annotations

import tracemalloc

import cv2
import numpy as np
import pytest

from studiocut.errors import InputError
from studiocut.imaging import frame
from studiocut.imaging.frame import Layout, Region
from studiocut.profiles import Canvas


def alpha_with(size: tuple[int, int], box: tuple[int, int, int, int]) -> np.ndarray:
    """A (w, h) alpha that is 1 inside ``box`` and 0 elsewhere."""
    w, h = size
    alpha = np.zeros((h, w), dtype=np.float32)
    x0, y0, x1, y1 = box
    alpha[y0:y1, x0:x1] = 1.0
    return alpha


# --------------------------------------------------------------------------- layout


def test_layout_square_crops_to_subject_scales_to_fit_less_margin_and_centres() -> None:
    alpha = alpha_with((400, 300), (100, 50, 300, 150))  # a 200 x 100 subject
    # a 20 px margin: 160 px to fill
    plan = frame.layout(alpha, Canvas(width=200, height=200, margin=0.1))

    assert plan.crop == (100, 50, 300, 150)
    assert plan.canvas == (200, 200)
    assert plan.placed == (160, 80)  # limited by the width: 160 / 200
    assert plan.offset == (20, 60)  # centred both ways


def test_layout_margin_in_pixels_is_taken_as_pixels() -> None:
    alpha = alpha_with((400, 300), (100, 50, 300, 150))
    plan = frame.layout(alpha, Canvas(width=200, height=200, margin=30))  # 30 px: 140 px to fill

    assert plan.placed == (140, 70)
    assert plan.offset == (30, 65)


def test_layout_tall_subject_is_limited_by_its_height() -> None:
    alpha = alpha_with((300, 400), (100, 40, 150, 360))  # 50 x 320
    plan = frame.layout(alpha, Canvas(width=400, height=400, margin=0.05))  # 360 px to fill

    assert plan.placed == (56, 360)
    assert plan.offset == ((400 - 56) // 2, 20)


def test_layout_bottom_placement_stands_the_subject_on_the_floor_margin() -> None:
    alpha = alpha_with((400, 300), (100, 50, 300, 150))
    canvas = Canvas(width=200, height=200, margin=0.1, placement="bottom", floor=0.05)
    plan = frame.layout(alpha, canvas)

    assert plan.placed == (160, 80)
    x, y = plan.offset
    assert x == 20  # still centred across
    assert y + plan.placed[1] == 200 - 10  # bottom edge on the 10 px floor
    assert y > (200 - 80) // 2  # lower than centring would put it


def test_layout_bottom_placement_of_a_tall_subject_keeps_the_top_margin() -> None:
    alpha = alpha_with((300, 400), (100, 0, 150, 400))  # 50 x 400
    canvas = Canvas(width=200, height=200, margin=0.1, placement="bottom", floor=0.05)
    plan = frame.layout(alpha, canvas)

    # the height to fill is 200 - 20 (top margin) - 10 (floor)
    assert plan.placed[1] == 170
    assert plan.offset[1] == 20
    assert plan.offset[1] + plan.placed[1] == 190


def test_layout_max_upscale_caps_the_scale_of_a_small_subject() -> None:
    alpha = alpha_with((100, 100), (40, 45, 60, 55))  # 20 x 10: fitting would need x8
    plan = frame.layout(alpha, Canvas(width=200, height=200, margin=0.1, max_upscale=1.5))

    assert plan.placed == (30, 15)  # 1.5 x, not 8 x
    assert plan.canvas == (200, 200)  # without min_size the canvas keeps its size
    assert plan.offset == (85, 92)  # centred in the full canvas


def test_layout_min_size_shrinks_the_canvas_around_a_small_subject() -> None:
    alpha = alpha_with((100, 100), (40, 45, 60, 55))
    canvas = Canvas(width=200, height=200, margin=0.1, max_upscale=1.5, min_size=32)
    plan = frame.layout(alpha, canvas)

    assert plan.placed == (30, 15)
    side = plan.canvas[0]
    assert plan.canvas == (side, side)
    assert 32 <= side < 200
    # the margin (a tenth of the smaller canvas) still surrounds the subject
    margin = canvas.margins_px((side, side))[0]
    assert plan.offset[0] >= margin - 1
    assert plan.offset[0] + plan.placed[0] <= side - margin + 1
    assert side <= 40  # no more than the subject plus its margins (30 / 0.8, rounded up)


def test_layout_min_size_never_shrinks_the_canvas_below_min_size() -> None:
    alpha = alpha_with((100, 100), (40, 45, 60, 55))
    plan = frame.layout(alpha, Canvas(width=200, height=200, margin=0.1, max_upscale=1.5,
                                      min_size=120))

    assert plan.canvas == (120, 120)
    assert plan.placed == (30, 15)
    assert plan.offset == (45, 52)


def test_layout_min_size_leaves_a_large_subject_on_the_full_canvas() -> None:
    alpha = alpha_with((400, 300), (100, 50, 300, 150))
    plan = frame.layout(alpha, Canvas(width=200, height=200, margin=0.1, min_size=50))

    assert plan.canvas == (200, 200)
    assert plan.placed == (160, 80)


def test_layout_max_upscale_is_measured_against_source_pixels() -> None:
    # the working region was decoded at half the source's size: a 100 px subject there is
    # 200 px in the source, so a cap of 0.5 allows 100 px on the canvas, not 50
    alpha = alpha_with((200, 200), (50, 50, 150, 150))
    canvas = Canvas(width=400, height=400, margin=0, max_upscale=0.5)

    assert frame.layout(alpha, canvas, decoded=0.5).placed == (100, 100)
    assert frame.layout(alpha, canvas).placed == (50, 50)


def test_layout_without_square_keeps_the_input_pixel_size() -> None:
    alpha = alpha_with((321, 123), (10, 10, 20, 20))
    assert frame.layout(alpha, None) == Layout((0, 0, 321, 123), (321, 123), (321, 123), (0, 0))


def test_layout_without_square_needs_no_subject() -> None:
    plan = frame.layout(np.zeros((50, 60), dtype=np.float32), None)
    assert plan.canvas == (60, 50)


def test_layout_of_an_empty_alpha_raises_no_subject() -> None:
    with pytest.raises(InputError) as caught:
        frame.layout(np.zeros((50, 60), dtype=np.float32), Canvas(width=100, height=100))
    assert caught.value.reason == "no-subject"


def test_subject_box_ignores_faint_alpha() -> None:
    alpha = alpha_with((100, 80), (20, 10, 60, 50))
    alpha[0:5, :] = 0.2  # a faint haze below the subject threshold
    assert frame.subject_box(alpha) == (20, 10, 60, 50)
    assert frame.subject_box(np.full((10, 10), 0.1, dtype=np.float32)) is None


# --------------------------------------------------------------------------- locate and Region


def test_locate_square_picks_a_region_around_the_subject_and_a_scale_to_decode() -> None:
    mask = alpha_with((64, 64), (16, 16, 48, 32))  # in a 640 x 480 frame: (160, 120, 480, 240)
    canvas = Canvas(width=200, height=200, margin=0.05)
    region = frame.locate(mask, (640, 480), canvas)

    x0, y0, x1, y1 = region.box
    assert x0 <= 160 and y0 <= 120 and x1 >= 480 and y1 >= 240  # holds the subject
    assert x0 >= 0 and y0 >= 0 and x1 <= 640 and y1 <= 480  # inside the frame
    assert (x1 - x0) * (y1 - y0) < 640 * 480 / 2  # and is a crop, not the whole frame
    # the 320 px wide subject must become 180 px: decode a little more than that scale
    assert 180 / 320 <= region.scale <= 1.2 * 180 / 320


def test_locate_never_asks_for_more_than_the_full_size() -> None:
    mask = alpha_with((64, 64), (30, 30, 34, 34))  # a tiny subject that will be upscaled
    region = frame.locate(mask, (640, 480), Canvas(width=2000, height=2000))
    assert region.scale == 1.0
    assert region.decode_size((640, 480)) == (640, 480)


def test_locate_without_square_decodes_the_whole_frame_at_full_size() -> None:
    mask = np.zeros((64, 64), dtype=np.float32)  # no subject needed without framing
    assert frame.locate(mask, (640, 480), None) == Region((0, 0, 640, 480), 1.0)


def test_locate_of_an_empty_mask_raises_no_subject() -> None:
    with pytest.raises(InputError) as caught:
        frame.locate(np.zeros((64, 64), dtype=np.float32), (640, 480), Canvas())
    assert caught.value.reason == "no-subject"


def test_region_decode_size_rounds_up() -> None:
    assert Region((0, 0, 400, 300), 0.33).decode_size((400, 300)) == (132, 99)
    assert Region((0, 0, 3, 3), 0.01).decode_size((3, 3)) == (1, 1)


def test_region_box_at_maps_the_box_onto_a_picture_decoded_smaller() -> None:
    region = Region((100, 50, 301, 201), 0.5)
    # floor the start, ceil the end, so the mapped box never loses subject pixels
    assert region.box_at((400, 300), (200, 150)) == (50, 25, 151, 101)
    assert region.box_at((400, 300), (400, 300)) == (100, 50, 301, 201)


def test_region_box_at_stays_inside_the_decoded_picture() -> None:
    region = Region((0, 0, 400, 300), 0.3325)
    assert region.box_at((400, 300), (133, 100)) == (0, 0, 133, 100)


# --------------------------------------------------------------------------- fit and place


def test_fit_crops_to_the_subject_and_resizes_to_the_placed_size() -> None:
    rgb = np.zeros((100, 120, 3), dtype=np.uint8)
    rgb[20:60, 30:90] = (10, 200, 30)
    alpha = alpha_with((120, 100), (30, 20, 90, 60))
    plan = Layout(crop=(30, 20, 90, 60), placed=(30, 20), canvas=(50, 50), offset=(10, 15))

    out_rgb, out_alpha = frame.fit(rgb, alpha, plan)

    assert out_rgb.shape == (20, 30, 3) and out_alpha.shape == (20, 30)
    assert (out_rgb == (10, 200, 30)).all()  # only subject pixels were kept
    assert np.allclose(out_alpha, 1.0)


def _crossing(row: np.ndarray, level: float) -> float:
    """Where a falling row crosses ``level``, between pixel centres (pixel i at i + 0.5)."""
    i = int(np.nonzero(row < level)[0][0])
    return i - 1 + (row[i - 1] - level) / (row[i - 1] - row[i]) + 0.5


def test_fit_with_colour_finer_than_alpha_keeps_the_two_aligned() -> None:
    # one scene, an edge ramp at x = 611 (in colour pixels), sampled on two grids over the
    # same region: colour at 1000 x 222, alpha at 450 x 100 (2.22 colour pixels each)
    def scene(x: np.ndarray) -> np.ndarray:
        return np.clip((611.0 - x) / 20.0 + 0.5, 0.0, 1.0)

    k = 1000 / 450
    colour_row = scene(np.arange(1000) + 0.5)
    alpha_row = scene((np.arange(450) + 0.5) * k).astype(np.float32)
    rgb = np.repeat((colour_row * 255).astype(np.uint8)[None, :, None], 222, 0).repeat(3, 2)
    alpha = np.repeat(alpha_row[None, :], 100, 0)
    plan = Layout(crop=(40, 10, 420, 90), placed=(300, 63), canvas=(300, 63), offset=(0, 0))

    out_rgb, out_alpha = frame.fit(rgb, alpha, plan)

    assert out_rgb.shape == (63, 300, 3) and out_alpha.shape == (63, 300)
    edge_colour = _crossing(out_rgb[30, :, 0].astype(np.float64) / 255.0, 0.5)
    edge_alpha = _crossing(out_alpha[30].astype(np.float64), 0.5)
    expected = (611.0 / k - 40) * 300 / 380  # the edge in output pixels, near 190
    assert edge_alpha == pytest.approx(expected, abs=0.5)
    assert edge_colour == pytest.approx(edge_alpha, abs=0.25)


def test_fit_upscaling_keeps_alpha_within_0_and_1() -> None:
    alpha = np.zeros((20, 20), dtype=np.float32)
    alpha[5:15, 5:15] = 1.0  # hard edges: cubic interpolation overshoots them
    rgb = np.zeros((20, 20, 3), dtype=np.uint8)
    plan = Layout(crop=(0, 0, 20, 20), placed=(70, 70), canvas=(70, 70), offset=(0, 0))

    _, out_alpha = frame.fit(rgb, alpha, plan)

    assert out_alpha.shape == (70, 70)
    assert out_alpha.min() >= 0.0 and out_alpha.max() <= 1.0


def test_fit_at_the_same_size_returns_the_crop_untouched() -> None:
    rng = np.random.default_rng(3)
    rgb = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    alpha = rng.random((40, 50), dtype=np.float32)
    plan = Layout(crop=(5, 6, 25, 36), placed=(20, 30), canvas=(20, 30), offset=(0, 0))

    out_rgb, out_alpha = frame.fit(rgb, alpha, plan)

    assert np.array_equal(out_rgb, rgb[6:36, 5:25])
    assert np.array_equal(out_alpha, alpha[6:36, 5:25])


def test_resampling_enlarges_cubic_shrinks_bilinear_to_two_thirds_then_by_area() -> None:
    assert frame.resampling(1000, 1000) == cv2.INTER_CUBIC
    assert frame.resampling(1000, 1500) == cv2.INTER_CUBIC
    assert frame.resampling(1000, 999) == cv2.INTER_LINEAR
    assert frame.resampling(1500, 1000) == cv2.INTER_LINEAR  # exactly 2/3
    assert frame.resampling(1501, 1000) == cv2.INTER_AREA
    assert frame.resampling(3000, 1000) == cv2.INTER_AREA


def _stripes(width: int, height: int) -> np.ndarray:
    rgb = np.zeros((height, width, 3), dtype=np.uint8)
    rgb[:, ::2] = 255  # one-pixel stripes: the finest detail a photo holds
    return rgb


@pytest.mark.parametrize("placed", [600, 300])
def test_fit_well_below_two_thirds_averages_fine_detail_instead_of_aliasing_it(
        placed: int) -> None:
    rgb = _stripes(1000, 100)
    alpha = np.ones((100, 1000), dtype=np.float32)
    plan = Layout(crop=(0, 0, 1000, 100), placed=(placed, placed // 10),
                  canvas=(placed, placed // 10), offset=(0, 0))

    out_rgb, _ = frame.fit(rgb, alpha, plan)

    # area averaging: every output pixel a mean of its stripes, about grey; bilinear at 0.6
    # would sample them unevenly, from 0 to 255 (a moire of false bands)
    assert out_rgb.min() >= 90 and out_rgb.max() <= 165


def test_fit_from_two_thirds_up_matches_area_averaging_closely() -> None:
    rng = np.random.default_rng(5)
    rgb = cv2.GaussianBlur(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8), (0, 0), 1.0)
    alpha = np.ones((300, 400), dtype=np.float32)
    plan = Layout(crop=(0, 0, 400, 300), placed=(320, 240), canvas=(320, 240), offset=(0, 0))

    out_rgb, _ = frame.fit(rgb, alpha, plan)

    area = cv2.resize(rgb, (320, 240), interpolation=cv2.INTER_AREA)
    error = np.abs(out_rgb.astype(np.int16) - area.astype(np.int16))
    assert float(error.mean()) < 3.0  # the same picture, detail for detail


def test_place_pastes_at_the_offset_and_leaves_the_rest_of_the_canvas() -> None:
    canvas = np.full((50, 60, 3), 255, dtype=np.uint8)
    image = np.zeros((10, 20, 3), dtype=np.uint8)
    plan = Layout(crop=(0, 0, 20, 10), placed=(20, 10), canvas=(60, 50), offset=(30, 5))

    out = frame.place(image, plan, canvas)

    assert out.shape == (50, 60, 3)
    assert (out[5:15, 30:50] == 0).all()
    untouched = np.ones((50, 60), dtype=bool)
    untouched[5:15, 30:50] = False
    assert (out[untouched] == 255).all()


def test_place_clips_an_image_that_overhangs_the_canvas() -> None:
    canvas = np.zeros((10, 10, 4), dtype=np.uint8)
    image = np.full((6, 6, 4), 200, dtype=np.uint8)
    image[0, 0] = 7  # the top-left pixel, which lands outside
    plan = Layout(crop=(0, 0, 6, 6), placed=(6, 6), canvas=(10, 10), offset=(-2, 7))

    out = frame.place(image, plan, canvas)

    assert (out[7:10, 0:4] == 200).all()
    assert out.sum() == 200 * 4 * 3 * 4  # nothing else was written


def _scene(seed: int, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Colour and alpha of a (w, h) region: noise, and a soft disc."""
    w, h = size
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot(xx - w / 2, yy - h / 2) / (0.4 * min(w, h))
    return rgb, np.clip(4.0 * (1.0 - r), 0.0, 1.0).astype(np.float32)


def _canvases(size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    w, h = size
    return np.full((h, w, 3), 255, dtype=np.uint8), np.zeros((h, w), dtype=np.float32)


FIT_CASES = {
    # colour finer than alpha: resampled and warped into the canvas
    "finer colour, inside": ((230, 170), (100, 75), Layout((5, 4, 95, 70), (150, 110), (200, 160),
                                                            (20, 30))),
    # colour at alpha's size, shrunk by area
    "same size, inside": ((100, 75), (100, 75), Layout((5, 4, 95, 70), (40, 30), (60, 50),
                                                       (10, 12))),
    # at the placed size already: copied as is
    "same size, unscaled": ((100, 75), (100, 75), Layout((5, 4, 95, 70), (90, 66), (120, 90),
                                                         (15, 10))),
    # flush with the canvas's bottom right corner
    "finer colour, flush": ((230, 170), (100, 75), Layout((5, 4, 95, 70), (150, 110), (150, 110),
                                                           (0, 0))),
    # flush with the canvas's bottom right corner, inside it: resampled into it
    "finer colour, flush inside": ((230, 170), (100, 75), Layout((5, 4, 95, 70), (150, 110),
                                                                  (170, 130), (20, 20))),
    # a pixel over the bottom right corner: fitted, then placed clipped
    "finer colour, a pixel over": ((230, 170), (100, 75), Layout((5, 4, 95, 70), (150, 110),
                                                                  (170, 130), (21, 21))),
    # hangs over the top left: fitted, then placed clipped
    "finer colour, overhanging": ((230, 170), (100, 75), Layout((5, 4, 95, 70), (150, 110),
                                                                 (140, 120), (-6, -3))),
}


@pytest.mark.parametrize("case", list(FIT_CASES))
def test_fit_onto_gives_the_pixels_of_fit_then_place(case: str) -> None:
    colour_size, alpha_size, plan = FIT_CASES[case]
    rgb, _ = _scene(1, colour_size)
    _, alpha = _scene(2, alpha_size)
    colour_canvas, alpha_canvas = _canvases(plan.canvas)
    fitted_rgb, fitted_alpha = frame.fit(rgb, alpha, plan)
    expected_rgb = frame.place(fitted_rgb, plan, colour_canvas.copy())
    expected_alpha = frame.place(fitted_alpha, plan, alpha_canvas.copy())

    out_rgb, out_alpha = frame.fit_onto(rgb, alpha, plan, colour_canvas, alpha_canvas)

    assert np.array_equal(out_rgb, expected_rgb)
    assert np.array_equal(out_alpha, expected_alpha)
    assert out_alpha.min() >= 0.0 and out_alpha.max() <= 1.0


@pytest.mark.parametrize("case", ["finer colour, inside", "same size, inside",
                                  "same size, unscaled"])
def test_fit_onto_converts_an_alpha_of_another_type_into_its_canvas(case: str) -> None:
    colour_size, alpha_size, plan = FIT_CASES[case]
    rgb, _ = _scene(1, colour_size)
    _, alpha = _scene(2, alpha_size)
    colour_canvas, alpha_canvas = _canvases(plan.canvas)
    expected = frame.fit_onto(rgb, alpha, plan, colour_canvas.copy(), alpha_canvas.copy())

    _, out_alpha = frame.fit_onto(rgb, alpha.astype(np.float64), plan, colour_canvas,
                                  alpha_canvas)

    assert out_alpha is alpha_canvas and out_alpha.dtype == np.float32
    assert np.allclose(out_alpha, expected[1], atol=1e-6)
    assert out_alpha.max() > 0.99  # the subject is there, not a blank canvas


def test_fit_onto_resamples_straight_into_the_canvases_without_a_placed_size_copy() -> None:
    rgb, _ = _scene(3, (1150, 850))
    _, alpha = _scene(4, (500, 375))
    plan = Layout(crop=(25, 20, 475, 350), placed=(750, 550), canvas=(800, 800),
                  offset=(25, 125))
    colour_canvas, alpha_canvas = _canvases(plan.canvas)
    placed_colour = 750 * 550 * 3  # bytes of the fitted colour, were it made and pasted

    tracemalloc.start()
    try:
        out_rgb, out_alpha = frame.fit_onto(rgb, alpha, plan, colour_canvas, alpha_canvas)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert out_rgb is colour_canvas and out_alpha is alpha_canvas
    assert peak < placed_colour / 4
    assert (out_rgb[:125] == 255).all() and (out_alpha[:125] == 0).all()  # the margin kept
    assert out_alpha[400, 400] == pytest.approx(1.0)


# --------------------------------------------------------------------------- canvases of any aspect


def test_layout_portrait_canvas_fits_the_subject_within_both_sides() -> None:
    alpha = alpha_with((400, 300), (100, 50, 300, 150))  # 200 x 100
    plan = frame.layout(alpha, Canvas(width=100, height=144, margin=0.1))  # 10 px all round

    assert plan.canvas == (100, 144)
    assert plan.placed == (80, 40)  # limited by the width: 80 / 200
    assert plan.offset == (10, 52)  # centred both ways
    assert plan.scale == pytest.approx(0.4)


def test_a_margin_is_a_fraction_of_the_shorter_side_on_a_landscape_canvas() -> None:
    alpha = alpha_with((100, 400), (40, 0, 60, 400))  # a tall 20 x 400 subject
    plan = frame.layout(alpha, Canvas(width=300, height=200, margin=0.1))

    assert plan.placed[1] == 200 - 2 * 20  # 10 % of 200, above and below


def test_fill_gives_the_subject_that_share_of_the_limiting_side() -> None:
    alpha = alpha_with((400, 300), (100, 50, 300, 150))  # 200 x 100: its width limits
    plan = frame.layout(alpha, Canvas(width=1000, height=1440, fill=0.85, max_upscale=8))

    assert plan.placed == (850, 425)
    assert plan.offset == (75, (1440 - 425) // 2)


def test_fill_of_a_tall_subject_is_measured_on_the_canvas_height() -> None:
    alpha = alpha_with((300, 400), (100, 40, 150, 360))  # 50 x 320
    plan = frame.layout(alpha, Canvas(width=1000, height=1440, fill=0.85, max_upscale=8))

    assert plan.placed[1] == round(0.85 * 1440)


def test_fill_with_bottom_placement_stands_on_the_floor() -> None:
    alpha = alpha_with((400, 300), (100, 50, 300, 150))
    plan = frame.layout(alpha, Canvas(width=200, height=300, fill=0.5, placement="bottom",
                                      floor=0.1))

    assert plan.placed == (100, 50)
    assert plan.floor == 300 - 30


def test_locate_on_a_portrait_canvas_decodes_at_the_scale_its_width_needs() -> None:
    mask = alpha_with((64, 64), (16, 16, 48, 32))  # 320 x 60 px of a 640 x 480 frame
    region = frame.locate(mask, (640, 480), Canvas(width=100, height=144, fill=0.9))

    assert 90 / 320 <= region.scale <= 1.2 * 90 / 320


def test_covering_holds_every_region_at_the_finest_scale() -> None:
    one, two = Region((10, 20, 100, 200), 0.3), Region((0, 30, 90, 210), 0.5)
    assert frame.covering([one, two]) == Region((0, 20, 100, 210), 0.5)


# ----------------------------------------------------------------------- cut by the photo's edge


def test_cut_sides_are_the_photo_edges_the_subject_reaches() -> None:
    alpha = alpha_with((100, 80), (20, 30, 100, 80))  # runs off the right and the bottom
    assert frame.cut_sides(alpha) == {"right", "bottom"}
    # the region's right side is not the photo's own edge: nothing cut there
    assert frame.cut_sides(alpha, frozenset({"left", "bottom"})) == {"bottom"}
    assert frame.cut_sides(alpha_with((100, 80), (20, 30, 60, 70))) == frozenset()


def test_a_subject_cut_at_the_bottom_stands_on_the_canvas_bottom_edge() -> None:
    alpha = alpha_with((400, 300), (100, 50, 300, 300))  # 200 x 250, cut by the bottom
    canvas = Canvas(width=200, height=200, margin=0.1)
    plan = frame.layout(alpha, canvas, cut=frozenset({"bottom"}))

    assert plan.floor == 200, "flush with the canvas's bottom edge, not floating"
    # no margin below: the subject may use the room down to the edge
    assert plan.placed[1] == 200 - 20
    assert plan.offset[0] == (200 - plan.placed[0]) // 2
    centred = frame.layout(alpha, canvas)
    assert centred.floor < 200


def test_a_subject_cut_at_the_left_is_flush_with_the_canvas_left_edge() -> None:
    alpha = alpha_with((400, 300), (0, 100, 150, 200))
    plan = frame.layout(alpha, Canvas(width=200, height=200, margin=0.1),
                        cut=frozenset({"left"}))

    assert plan.offset[0] == 0
    assert plan.placed[0] == 200 - 20  # the margin stays on the right only


def test_a_subject_cut_at_the_right_and_the_top_is_flush_with_both() -> None:
    alpha = alpha_with((400, 300), (300, 0, 400, 100))
    plan = frame.layout(alpha, Canvas(width=200, height=200, margin=0.1),
                        cut=frozenset({"right", "top"}))

    assert plan.offset[0] + plan.placed[0] == 200
    assert plan.offset[1] == 0


# --------------------------------------------------------------------------- a set's lineup


def test_a_lineup_keeps_the_sets_scale_and_floor_line() -> None:
    first = frame.layout(alpha_with((400, 300), (100, 50, 300, 250)),
                         Canvas(width=200, height=200, margin=0.1))
    lineup = frame.Lineup(first.scale, first.floor)
    smaller = frame.layout(alpha_with((400, 300), (150, 100, 250, 200)),
                           Canvas(width=200, height=200, margin=0.1), lineup=lineup)

    assert smaller.lineup == lineup
    assert smaller.scale == pytest.approx(first.scale)
    assert smaller.placed == (80, 80)  # the same scale, not fitted up to 160
    assert smaller.floor == first.floor


def test_a_lineup_counts_source_pixels_whatever_the_region_was_decoded_at() -> None:
    lineup = frame.Lineup(0.5, 150)
    plan = frame.layout(alpha_with((200, 200), (50, 50, 150, 150)),
                        Canvas(width=200, height=200, margin=0.05), decoded=0.5, lineup=lineup)

    assert plan.placed == (100, 100)  # 100 px decoded at half size: 200 source px, x 0.5
    assert plan.scale == pytest.approx(0.5)


def test_a_subject_that_does_not_fit_the_lineup_is_fitted_on_its_own() -> None:
    lineup = frame.Lineup(0.4, 180)  # set by a small first view
    plan = frame.layout(alpha_with((600, 300), (0, 50, 600, 250)),
                        Canvas(width=200, height=200, margin=0.1), lineup=lineup)

    assert plan.lineup is None, "did not follow the lineup: it would overhang the canvas"
    assert plan.placed[0] == 160


def test_locate_decodes_at_least_at_the_lineups_scale() -> None:
    mask = alpha_with((64, 64), (16, 16, 48, 32))  # 320 px wide in a 640 x 480 frame
    region = frame.locate(mask, (640, 480), Canvas(width=200, height=200, margin=0.05),
                          lineup=frame.Lineup(0.8, 150))
    assert region.scale >= 0.8
