"""cleanup.clean: specks dropped, pinholes filled, subjects kept or dropped by size.

Masks are built the way the pipeline makes them: a coarse model mask (here drawn by hand at
1/8 of the size) upsampled with ``matte.upsample``, so every edge has the soft fringe that
upsampling gives (about 8 px wide) rather than a hard step.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from studiocut.imaging import cleanup, matte
from studiocut.profiles import Cleanup

SCALE = 8
OFF = Cleanup(min_island=0.0)  # every rule off
# What cubic upsampling's ringing leaves around any corner, kept or not (the largest seen is
# 0.012): a trace, invisible in the output; a leftover fringe is 0.17 and more.
TRACE = 0.02


def upsampled(coarse: np.ndarray) -> np.ndarray:
    """The coarse mask at SCALE times the size, soft-edged as the pipeline makes it."""
    h, w = coarse.shape
    size = (w * SCALE, h * SCALE)
    return matte.upsample(coarse.astype(np.float32), size, (0, 0, *size))


def coarse_frame(h: int = 40, w: int = 60) -> np.ndarray:
    return np.zeros((h, w), np.float32)


def near(alpha: np.ndarray, x: int, y: int, radius: int) -> np.ndarray:
    """The pixels of ``alpha`` within ``radius`` coarse pixels of coarse point (x, y)."""
    x0, y0 = max(0, (x - radius) * SCALE), max(0, (y - radius) * SCALE)
    return alpha[y0:(y + radius + 1) * SCALE, x0:(x + radius + 1) * SCALE]


# --------------------------------------------------------------------------- specks


def test_specks_smaller_than_min_island_are_dropped_with_their_whole_soft_fringe() -> None:
    coarse = coarse_frame()
    cv2.circle(coarse, (22, 20), 12, 1.0, -1)  # the product, ~450 coarse px
    coarse[5, 50] = 1.0  # one coarse pixel of dust: 64 px, ~0.2 % of the subject
    alpha = upsampled(coarse)
    assert near(alpha, 50, 5, 2).max() > 0.5  # the speck is there, with a fringe around it
    assert ((near(alpha, 50, 5, 2) > TRACE) & (near(alpha, 50, 5, 2) < 0.5)).sum() > 64

    cleaned = cleanup.clean(alpha, Cleanup(min_island=0.01))

    assert near(cleaned, 50, 5, 2).max() < TRACE  # no grey ghost ring left on the backdrop
    product = np.s_[:, : 40 * SCALE]
    assert np.array_equal(cleaned[product], alpha[product])


def test_islands_at_least_min_island_are_kept_as_they_are() -> None:
    coarse = coarse_frame()
    cv2.circle(coarse, (22, 20), 12, 1.0, -1)
    coarse[3:9, 47:55] = 1.0  # 48 coarse px, ~10 % of the product
    alpha = upsampled(coarse)

    cleaned = cleanup.clean(alpha, Cleanup(min_island=0.05))

    assert np.array_equal(cleaned, alpha)


def test_dropping_a_speck_leaves_a_nearby_subject_edge_untouched() -> None:
    coarse = coarse_frame()
    cv2.circle(coarse, (22, 20), 12, 1.0, -1)  # right edge at x = 34
    coarse[20, 38] = 1.0  # dust 4 coarse px away: the fringes meet, the cores do not
    alpha = upsampled(coarse)

    cleaned = cleanup.clean(alpha, Cleanup(min_island=0.01))

    assert near(cleaned, 38, 20, 0).max() < 0.05
    product = np.s_[:, : 35 * SCALE]
    assert np.array_equal(cleaned[product], alpha[product])


# --------------------------------------------------------------------------- holes


def product_with_holes(*, touching: bool = False) -> np.ndarray:
    """A mug seen from the side: a body with one pinhole, and a handle enclosing a big hole;
    ``touching`` moves the body against the frame's left edge with a small bay open to it."""
    coarse = coarse_frame(50, 70)
    coarse[10:42, 8:40] = 1.0  # body: 1024 coarse px
    coarse[25, 20] = 0.0  # a pinhole (1 coarse px)
    coarse[15:37, 40:56] = 1.0  # handle ...
    coarse[20:32, 40:50] = 0.0  # ... around its opening: 120 coarse px, ~9 % of the mug
    if touching:
        coarse[10:42, 0:8] = 1.0
        coarse[30:32, 0:2] = 0.0  # a bay at the frame edge, as small as the pinhole
    return upsampled(coarse)


def test_pinholes_smaller_than_max_hole_are_filled_solid_rim_and_all() -> None:
    alpha = product_with_holes()
    assert near(alpha, 20, 25, 0).min() < 0.5
    assert (near(alpha, 20, 25, 1) < 0.99).sum() > SCALE * SCALE  # a soft dip, not a dot

    filled = cleanup.clean(alpha, Cleanup(min_island=0.0, max_hole=0.01))

    assert near(filled, 20, 25, 1).min() > 1 - TRACE  # no translucent ring where the hole was


def test_big_holes_are_kept_open() -> None:
    alpha = product_with_holes()

    filled = cleanup.clean(alpha, Cleanup(min_island=0.0, max_hole=0.01))

    assert filled[26 * SCALE, 45 * SCALE] == 0.0  # seen through the mug's handle
    assert np.array_equal(filled[:, 40 * SCALE:], alpha[:, 40 * SCALE:])


def test_holes_touching_the_frame_edge_are_never_filled() -> None:
    alpha = product_with_holes(touching=True)
    bay = alpha[30 * SCALE:32 * SCALE, 0:SCALE]
    assert bay.max() < 0.5

    filled = cleanup.clean(alpha, Cleanup(min_island=0.0, max_hole=0.01))

    assert np.array_equal(filled[30 * SCALE:32 * SCALE, 0:SCALE], bay)
    assert near(filled, 20, 25, 1).min() > 1 - TRACE  # the enclosed pinhole still is


def test_filling_a_pinhole_in_a_translucent_part_leaves_the_rest_translucent() -> None:
    alpha = np.ones((200, 200), np.float32)
    alpha[:, :10] = alpha[:, -10:] = alpha[:10] = alpha[-10:] = 0.0
    alpha[40:160, 40:160] = 0.7  # a glass window in a solid frame
    alpha[98:102, 98:102] = 0.2  # with a pinhole

    filled = cleanup.clean(alpha, Cleanup(min_island=0.0, max_hole=0.01))

    assert filled[98:102, 98:102].min() == 1.0
    assert filled[50, 50] == np.float32(0.7)  # the glass stays glass


# --------------------------------------------------------------------------- subjects


def three_products() -> np.ndarray:
    coarse = coarse_frame(40, 80)
    coarse[5:35, 4:34] = 1.0  # 900 coarse px
    coarse[10:30, 40:58] = 1.0  # 360: 40 % of the largest
    coarse[15:25, 64:73] = 1.0  # 90: 10 % of the largest
    return upsampled(coarse)


def test_keep_largest_keeps_one_subject_and_drops_the_others_edges_and_all() -> None:
    alpha = three_products()

    kept = cleanup.clean(alpha, Cleanup(min_island=0.0, keep="largest"))

    assert np.array_equal(kept[:, : 36 * SCALE], alpha[:, : 36 * SCALE])
    assert kept[:, 37 * SCALE:].max() < TRACE


def test_min_subject_drops_separate_subjects_smaller_than_that_share_of_the_largest() -> None:
    alpha = three_products()

    kept = cleanup.clean(alpha, Cleanup(min_island=0.0, min_subject=0.25))

    assert np.array_equal(kept[:, : 61 * SCALE], alpha[:, : 61 * SCALE])
    assert kept[:, 62 * SCALE:].max() < TRACE


def test_min_subject_counts_against_the_largest_and_min_island_against_the_whole() -> None:
    alpha = three_products()  # the smallest is 10 % of the largest, 7 % of all three

    assert cleanup.clean(alpha, Cleanup(min_island=0.0, min_subject=0.09))[
        20 * SCALE, 68 * SCALE] == 1.0
    assert cleanup.clean(alpha, Cleanup(min_island=0.075))[20 * SCALE, 68 * SCALE] == 0.0


# --------------------------------------------------------------------------- no-ops


def test_the_default_rules_leave_a_clean_mask_unchanged() -> None:
    coarse = coarse_frame()
    cv2.circle(coarse, (30, 20), 14, 1.0, -1)
    alpha = upsampled(coarse)

    assert np.array_equal(cleanup.clean(alpha, Cleanup()), alpha)


def test_with_every_rule_off_cleanup_returns_the_same_array() -> None:
    alpha = three_products()

    assert cleanup.clean(alpha, OFF) is alpha


def test_an_empty_mask_is_returned_as_it_is() -> None:
    alpha = np.zeros((50, 50), np.float32)

    assert cleanup.clean(alpha, Cleanup(max_hole=0.1, keep="largest")) is alpha


# --------------------------------------------------------------------------- in the pipeline


def test_a_speck_of_dust_is_gone_from_the_finished_image(tmp_path: Path) -> None:
    from conftest import FakeModel, make_profile, product_photo
    from studiocut.imaging import pipeline

    pixels = np.array(product_photo())
    cv2.circle(pixels, (360, 40), 4, (200, 30, 30), -1)  # red dust far from the product
    source = tmp_path / "speck.png"
    Image.fromarray(pixels).save(source)

    def finished(cleanup: object) -> np.ndarray:
        profile = make_profile(format="png", cleanup=cleanup)
        return pipeline.cut(source, FakeModel(), profile).image

    assert finished(False)[40, 360, 1] < 200  # kept with cleanup off
    clean = finished({"min_island": 0.01})
    assert clean[30:51, 350:371].min() >= 250  # white, with no grey ring where it was
    assert clean[160, 200].tolist() == [200, 30, 30]  # the product itself is untouched


def test_cleanup_leaves_the_alpha_it_was_given_as_it_was() -> None:
    coarse = coarse_frame()
    cv2.circle(coarse, (22, 20), 12, 1.0, -1)
    coarse[5, 50] = 1.0  # a speck to drop
    coarse[20, 22] = 0.0  # and a pinhole to fill
    alpha = upsampled(coarse)
    before = alpha.copy()

    cleaned = cleanup.clean(alpha, Cleanup(min_island=0.01, max_hole=0.01))

    assert not np.array_equal(cleaned, alpha)
    assert np.array_equal(alpha, before)


def test_parts_and_holes_traced_from_borders_agree_with_labelling_every_pixel() -> None:
    """Clean-up works from the traced borders when they are cheap to trace: the parts, their
    boxes and holes must be the labelling's, parts and holes touching the frame's edge
    included, and each part's seed one of its pixels."""
    rng = np.random.default_rng(11)
    counted = 0
    for _ in range(600):
        h, w = (int(n) for n in rng.integers(1, 48, 2))
        blobs = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0),
                                 float(rng.uniform(0.3, 3.0)))
        mask = (blobs > np.quantile(blobs, rng.uniform(0.1, 0.9))).astype(np.uint8) * 255
        parts, labels, part_stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        n, _, stats, _ = cv2.connectedComponentsWithStats((mask == 0).astype(np.uint8),
                                                          connectivity=4)
        holes = sum(1 for x, y, bw, bh, _ in stats[1:n]
                    if x > 0 and y > 0 and x + bw < w and y + bh < h)

        found = cleanup._trace(mask)
        if found is not None:
            counted += 1
            assert (len(found.boxes), found.holes) == (parts - 1, holes)
            assert sorted(found.boxes) == sorted(tuple(int(v) for v in box)
                                                 for box in part_stats[1:, :4])
            for i, (box, (x, y)) in enumerate(zip(found.boxes, found.seeds, strict=True)):
                assert tuple(int(v) for v in part_stats[labels[y, x], :4]) == box
                part = cleanup._part(mask, found, i)
                assert np.count_nonzero(part) == part_stats[labels[y, x], 4]
    assert counted > 300


def test_a_mask_with_borders_too_long_to_trace_is_labelled_instead() -> None:
    """Tracing costs by the border pixel: a speckled mask (a noisy matte, a texture) would
    take seconds at 4 MP, so it is not traced, and clean-up labels it as before."""
    rng = np.random.default_rng(5)
    speckled = (rng.random((400, 400)) < 0.1).astype(np.uint8) * 255
    plain = np.zeros((400, 400), np.uint8)
    cv2.circle(plain, (200, 200), 150, 255, -1)

    assert cleanup._trace(speckled) is None
    traced = cleanup._trace(plain)
    assert traced is not None and (len(traced.boxes), traced.holes) == (1, 0)
    alpha = np.maximum(plain, speckled).astype(np.float32) / 255
    cleaned = cleanup.clean(alpha, Cleanup(min_island=0.001))
    left, _ = cv2.connectedComponents((cleaned > 0.5).astype(np.uint8), connectivity=8)
    assert left == 2  # the disc, with the specks that touch it; every other speck gone
    core = cv2.erode(plain, np.ones((7, 7), np.uint8)) > 0  # a dropped speck takes 2 px
    assert np.array_equal(cleaned[core], alpha[core])      # around it with it
    assert 0 < np.count_nonzero(cleaned[plain == 0]) < np.count_nonzero(speckled[plain == 0])


def _dusty(rng: np.random.Generator) -> np.ndarray:
    """A soft product with dust around it, and often a faint haze that may join a speck to
    the product far away."""
    h, w = (int(v) for v in rng.integers(100, 400, 2))
    alpha = np.zeros((h, w), np.float32)
    cv2.ellipse(alpha, (int(rng.integers(0, w)), int(rng.integers(0, h))),
                (int(rng.integers(10, w)), int(rng.integers(10, h))),
                float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
    for _ in range(int(rng.integers(0, 12))):
        side = int(rng.integers(1, 12))
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        alpha[y : y + side, x : x + side] = 1.0
    alpha = cv2.GaussianBlur(alpha, (0, 0), float(rng.uniform(0.5, 4)))
    if rng.random() < 0.5:
        haze = cv2.GaussianBlur((rng.random((h, w)) < 0.002).astype(np.float32), (0, 0),
                                float(rng.uniform(5, 60)))
        alpha = np.maximum(alpha, haze / max(float(haze.max()), 1e-6)
                           * float(rng.uniform(0.005, 0.3)))
    return np.clip(alpha * float(rng.uniform(1, 2.5)), 0, 1).astype(np.float32)


def test_specks_found_from_traced_borders_are_those_labelling_every_pixel_finds() -> None:
    """The traced path labels only the boxes of parts it cannot decide from the boxes
    alone, and each surround in a window widened until it holds the surround or a part that
    stays: what it clears must be what labelling the whole frame clears."""
    rng = np.random.default_rng(7)
    compared = 0
    for _ in range(150):
        alpha = _dusty(rng)
        inside = cv2.inRange(alpha, cleanup._ABOVE_HALF, 2.0)
        traced = cleanup._trace(inside)
        if traced is None:
            continue
        total = float(np.count_nonzero(inside))
        for share in (0.001, 0.01, 0.1):
            labelled = cleanup._drops_labelled(alpha, inside, Cleanup(min_island=share),
                                               total)
            found = cleanup._drops_traced(alpha, inside, traced, share * total, total)
            if labelled is None:
                assert found is None
            else:
                compared += 1
                assert found is not None and np.array_equal(found, labelled)
    assert compared > 100


def test_a_specks_faint_surround_is_cleared_however_far_it_reaches() -> None:
    alpha = np.zeros((600, 600), np.float32)
    cv2.circle(alpha, (120, 300), 80, 1.0, -1)  # the product
    cv2.circle(alpha, (450, 300), 140, 0.02, -1)  # a faint haze, far wider than the speck
    alpha[298:303, 448:453] = 1.0  # the speck, in the middle of it

    cleaned = cleanup.clean(alpha, Cleanup(min_island=0.01))

    assert cleaned[:, 300:].max() == 0.0  # the haze went with the speck, to its last pixel
    assert np.array_equal(cleaned[:, :300], alpha[:, :300])


def test_a_specks_faint_surround_joined_far_away_to_the_product_stays() -> None:
    alpha = np.zeros((600, 600), np.float32)
    cv2.circle(alpha, (120, 300), 80, 1.0, -1)  # the product
    alpha[300, 200:551] = 0.05  # a faint thread from the product's edge ...
    alpha[298:303, 548:553] = 1.0  # ... to a speck 350 px away

    cleaned = cleanup.clean(alpha, Cleanup(min_island=0.01))

    assert cleaned[296:305, 546:555].max() == 0.0  # the speck and the 2 px around it
    assert np.array_equal(cleaned[300, 200:544], alpha[300, 200:544])  # the thread stays


def test_a_haze_of_many_specks_joined_to_the_product_is_looked_at_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every speck in a haze that reaches the product shares that haze: once one speck's
    window has found the product in it, the others are not labelled again, each out to the
    whole frame (a dusty 4 MP photo took seconds)."""
    alpha = np.full((800, 800), 0.01, np.float32)  # a faint haze over the whole frame
    cv2.circle(alpha, (400, 400), 150, 1.0, -1)  # the product
    rng = np.random.default_rng(3)
    specks = [(int(x), int(y)) for x, y in rng.integers(10, 790, (300, 2))
              if np.hypot(x - 400, y - 400) > 170]
    for x, y in specks:
        alpha[y - 1 : y + 2, x - 1 : x + 2] = 1.0
    labellings = 0
    label = cv2.connectedComponents

    def counted(*args: object, **kwargs: object) -> object:
        nonlocal labellings
        labellings += 1
        return label(*args, **kwargs)

    monkeypatch.setattr(cleanup.cv2, "connectedComponents", counted)
    cleaned = cleanup.clean(alpha, Cleanup(min_island=0.01))

    assert len(specks) > 200
    for x, y in specks:
        assert cleaned[y - 1 : y + 2, x - 1 : x + 2].max() == 0.0
    assert np.array_equal(cleaned[380:420, 380:420], alpha[380:420, 380:420])
    assert labellings < len(specks) + 20  # each speck's box, and a few windows in all
