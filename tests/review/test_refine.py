"""refine: a person's marks on a cut-out, parsed, painted and applied to its alpha.

The Segment Anything tests run the tiny SAM graphs of onnx_graphs (the published encoder
and decoder signatures): the encoder passes the letterboxed pixels through, the decoder draws
a square of 40 encoder pixels around the first prompt point (or the box of the first two).
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort
import pytest

from onnx_graphs import SAM_FRAME, Recording, sam_decoder, sam_encoder
from studiocut.models.registry import MODELS, Prompt
from studiocut.models.sam import SamModel
from studiocut.review import refine
from studiocut.review.refine import BadEdit, Edit, GrabCutSegmenter, SamSegmenter, Stroke

W, H = 100, 80  # the canvas of the parse tests


def disc(shape: tuple[int, int], centre: tuple[int, int], radius: float) -> np.ndarray:
    """float32 alpha: 1 inside the disc, 0 outside."""
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    cx, cy = centre
    return (((xx - cx) ** 2 + (yy - cy) ** 2) <= radius**2).astype(np.float32)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


# --------------------------------------------------------------------------- parse


def test_parse_reads_every_field_of_a_valid_request() -> None:
    body = {
        "points": [{"x": 10, "y": 20.5, "label": 1}, {"x": 0, "y": 79.9, "label": 0}],
        "box": [5, 6, 50, 40],
        "strokes": [{"mode": "keep", "radius": 4, "points": [[1, 2], [3.5, 4]]},
                    {"mode": "remove", "points": [[7, 8]]},
                    {"mode": "keep", "points": []}],  # nothing drawn: dropped
        "edge": {"shift": -3, "feather": 1.5, "matting": True, "decontaminate": False},
    }

    edit = refine.parse(body, (W, H))

    assert edit.points == ((10.0, 20.5, 1), (0.0, 79.9, 0))
    assert edit.box == (5.0, 6.0, 50.0, 40.0)
    assert edit.strokes == (Stroke(True, 4.0, ((1.0, 2.0), (3.5, 4.0))),
                            Stroke(False, 10.0, ((7.0, 8.0),)))  # radius 10 by default
    assert (edit.shift, edit.feather, edit.matting, edit.decontaminate) == (-3, 1.5, True, False)
    assert edit.params == body and edit.prompts


def test_parse_of_an_empty_request_is_an_edit_that_changes_nothing() -> None:
    edit = refine.parse({}, (W, H))

    assert edit == Edit()
    assert not edit.prompts and edit.decontaminate is None


def test_parse_sorts_an_inverted_box_and_clamps_it_to_the_canvas() -> None:
    assert refine.parse({"box": [50, 40, 5, 6]}, (W, H)).box == (5.0, 6.0, 50.0, 40.0)
    assert refine.parse({"box": [-10, -5, 200, 300]}, (W, H)).box == (0.0, 0.0, 100.0, 80.0)
    assert refine.parse({"box": [90, 70, 500, 500]}, (W, H)).box == (90.0, 70.0, 100.0, 80.0)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([1, 2], "must be a JSON object"),
        ({"points": [{"x": 100, "y": 5, "label": 1}]}, r"point \(100, 5\) is outside"),
        ({"points": [{"x": 5, "y": -1, "label": 1}]}, "is outside the 100 x 80 image"),
        ({"points": [{"x": 5, "y": 5, "label": 2}]}, "label 1 .keep. or 0"),
        ({"points": [{"x": 5, "y": 5}]}, "label 1 .keep. or 0"),
        ({"points": [{"x": 5, "y": 5, "label": True}]}, "label 1 .keep. or 0"),
        ({"points": [[5, 5, 1]]}, "each point needs x, y and label"),
        ({"points": [{"x": "5", "y": 5, "label": 1}]}, "point x: expected a number"),
        ({"points": [{"x": True, "y": 5, "label": 1}]}, "point x: expected a number, got True"),
        ({"points": [{"x": 5, "y": float("nan"), "label": 1}]}, "point y: expected a number"),
        ({"points": "all of them"}, "points must be a list of at most 500 items"),
        ({"points": {"x": 1}}, "points must be a list"),
        ({"points": [{"x": 1, "y": 1, "label": 1}] * 501}, "points must be a list of at most"),
        ({"box": [1, 2, 3]}, r"box must be \[x0, y0, x1, y1\]"),
        ({"box": "1,2,3,4"}, "box must be a list"),
        ({"box": [10, 10, 11, 50]}, "box is empty"),
        ({"box": [150, 10, 200, 50]}, "box is empty"),  # wholly right of the canvas
        ({"box": [1, 2, float("nan"), 4]}, "box: expected a number"),
        ({"box": [1, False, 30, 40]}, "box: expected a number, got False"),
        ({"strokes": [{"radius": 3, "points": [[1, 1]]}]}, "each stroke needs mode keep or"),
        ({"strokes": [{"mode": "erase", "points": [[1, 1]]}]}, "each stroke needs mode"),
        ({"strokes": ["keep"]}, "each stroke needs mode"),
        ({"strokes": {"mode": "keep"}}, "strokes must be a list"),
        ({"strokes": [{"mode": "keep", "radius": 0.4, "points": [[1, 1]]}]},
         "stroke radius must be between 0.5 and 100 px"),
        ({"strokes": [{"mode": "keep", "radius": 101, "points": [[1, 1]]}]},
         "stroke radius must be between"),
        ({"strokes": [{"mode": "keep", "radius": True, "points": [[1, 1]]}]},
         "stroke radius: expected a number"),
        ({"strokes": [{"mode": "keep", "points": "1,1"}]}, "stroke must be a list"),
        ({"strokes": [{"mode": "keep", "points": [[1, 1, 1]]}]}, r"stroke points must be \[x, y\]"),
        ({"strokes": [{"mode": "keep", "points": [[1, None]]}]}, "stroke: expected a number"),
        ({"strokes": [{"mode": "keep", "points": [[1, 1]] * 400}] * 4}, "too many marks"),
        ({"edge": [1]}, "edge must be an object"),
        ({"edge": {"shift": 51}}, r"edge.shift must be within -50..50"),
        ({"edge": {"shift": -51}}, r"edge.shift must be within"),
        ({"edge": {"feather": -1}}, r"edge.feather within 0..50"),
        ({"edge": {"feather": 50.5}}, r"edge.feather within 0..50"),
        ({"edge": {"shift": True}}, "edge.shift: expected a number, got True"),
        ({"edge": {"feather": float("nan")}}, "edge.feather: expected a number"),
        ({"edge": {"shift": math.inf}}, "edge.shift: expected a number"),  # json reads Infinity
        ({"edge": {"shift": 10**400}}, "edge.shift: expected a number"),
    ],
)
def test_parse_refuses_a_bad_request_naming_the_field(body: object, message: str) -> None:
    with pytest.raises(BadEdit, match=message):
        refine.parse(body, (W, H))


def test_parse_accepts_exactly_the_limits() -> None:
    edit = refine.parse({"points": [{"x": 99.99, "y": 0, "label": 0}] * 500,
                         "strokes": [{"mode": "remove", "radius": 0.5, "points": [[0, 0]]},
                                     {"mode": "keep", "radius": 100, "points": [[0, 0]]}],
                         "edge": {"shift": 50, "feather": 50}}, (W, H))

    assert len(edit.points) == 500 and (edit.shift, edit.feather) == (50, 50.0)
    assert [s.radius for s in edit.strokes] == [0.5, 100.0]


# --------------------------------------------------------------------------- paint


def test_a_keep_stroke_sets_alpha_1_along_its_line_within_its_radius() -> None:
    alpha = np.zeros((40, 60), np.float32)

    refine.paint(alpha, Stroke(True, 3, ((10, 20), (50, 20))))

    assert alpha[20, 30] == 1.0 and alpha[20, 10] == 1.0 and alpha[20, 50] == 1.0
    assert alpha[23, 30] == 1.0 and alpha[17, 30] == 1.0  # radius 3 either side
    assert (alpha[25:, :] == 0).all() and (alpha[:15, :] == 0).all()  # farther than 3 px (+AA)
    assert (alpha[:, 55:] == 0).all() and (alpha[:, :5] == 0).all()
    assert set(np.unique(alpha)) == {0.0, 1.0}


def test_a_remove_stroke_sets_alpha_0_and_leaves_the_rest() -> None:
    alpha = np.full((40, 60), 0.6, np.float32)

    refine.paint(alpha, Stroke(False, 2, ((30, 5), (30, 35))))

    assert alpha[20, 30] == 0.0 and alpha[20, 32] == 0.0
    assert alpha[20, 36] == pytest.approx(0.6) and alpha[20, 24] == pytest.approx(0.6)


def test_a_one_point_stroke_paints_a_disc_of_its_radius() -> None:
    alpha = np.zeros((40, 60), np.float32)

    refine.paint(alpha, Stroke(True, 5, ((30, 20),)))

    assert np.array_equal(alpha, disc((40, 60), (30, 20), 5))


# --------------------------------------------------------------------------- apply


class Spy:
    """A segmenter that answers with a fixed alpha and keeps what it was given."""

    name = "spy"

    def __init__(self, answer: np.ndarray) -> None:
        self.answer = answer
        self.calls: list[tuple[Hashable, np.ndarray, Edit]] = []

    def __call__(self, key: Hashable, before: np.ndarray, alpha: np.ndarray,
                 edit: Edit) -> np.ndarray:
        self.calls.append((key, alpha.copy(), edit))
        return self.answer.copy()


BEFORE = np.full((80, 100, 3), 128, np.uint8)


def test_shift_grows_or_shrinks_the_subject_by_that_many_pixels() -> None:
    alpha = disc((80, 100), (50, 40), 15)

    grown = refine.apply("k", BEFORE, alpha, Edit(shift=3), GrabCutSegmenter())
    shrunk = refine.apply("k", BEFORE, alpha, Edit(shift=-3), GrabCutSegmenter())

    assert grown.sum() > alpha.sum() > shrunk.sum()
    assert (grown >= alpha).all() and (shrunk <= alpha).all()
    assert grown[40, 50 + 18] == 1.0 and grown[40, 50 + 19] == 0.0  # 15 + 3
    assert shrunk[40, 50 + 11] == 1.0 and shrunk[40, 50 + 13] == 0.0  # 15 - 3, to a pixel
    assert np.array_equal(alpha, disc((80, 100), (50, 40), 15))  # the input is not changed


def test_feather_softens_the_edge_and_keeps_the_centre_opaque() -> None:
    alpha = disc((80, 100), (50, 40), 20)

    soft = refine.apply("k", BEFORE, alpha, Edit(feather=6), GrabCutSegmenter())

    partial = (soft > 0.01) & (soft < 0.99)
    assert partial.sum() > 100
    assert partial[40, 50 + 17 : 50 + 24].all()  # across the old edge
    assert soft[40, 50] == pytest.approx(1.0, abs=1e-5) and soft[0, 0] == 0.0
    assert soft.dtype == np.float32


def test_matting_solves_a_soft_edge_on_a_synthetic_photo() -> None:
    yy, xx = np.mgrid[0:80, 0:100]
    ramp = np.clip((28 - np.hypot(xx - 50, yy - 40)) / 8, 0, 1)  # a blurry red disc
    before = np.empty((80, 100, 3), np.uint8)
    before[:] = (40, 90, 200)
    before[:] = (ramp[..., None] * (220, 30, 30) + (1 - ramp[..., None]) * (40, 90, 200))
    hard = disc((80, 100), (50, 40), 24)

    matted = refine.apply("k", before, hard, Edit(matting=True), GrabCutSegmenter())

    assert matted.shape == hard.shape and matted.dtype == np.float32
    assert matted[40, 50] == pytest.approx(1.0, abs=0.02) and matted[2, 2] == pytest.approx(0.0)
    assert ((matted > 0.1) & (matted < 0.9)).sum() > 50  # the hard edge became soft


def test_apply_runs_prompts_then_strokes_then_edge_controls() -> None:
    alpha = disc((80, 100), (50, 40), 20)
    spy = Spy(np.zeros((80, 100), np.float32))
    stroke = Stroke(True, 2, ((10, 10), (80, 10)))
    edit = Edit(points=((50, 40, 0),), strokes=(stroke,), shift=2)

    result = refine.apply(("job", 1), BEFORE, alpha, edit, spy)

    [(key, given, seen)] = spy.calls
    assert key == ("job", 1) and seen is edit
    assert np.array_equal(given, alpha)  # the segmenter saw the alpha before the stroke
    painted = np.zeros((80, 100), np.float32)  # the stroke is drawn on the segmenter's answer
    refine.paint(painted, stroke)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    assert np.array_equal(result, cv2.dilate(painted, kernel))  # and then grown by 2


def test_apply_without_prompts_leaves_the_segmenter_alone() -> None:
    alpha = disc((80, 100), (50, 40), 20)
    spy = Spy(np.ones((80, 100), np.float32))

    result = refine.apply("k", BEFORE, alpha, Edit(strokes=(Stroke(False, 3, ((50, 40),)),)),
                          spy)

    assert spy.calls == []
    assert result[40, 50] == 0.0 and result[40, 56] == 1.0


# --------------------------------------------------------------------------- GrabCut

SQUARE = (60, 40, 140, 120)  # x0, y0, x1, y1 of the red square on grey


def square_photo(shape: tuple[int, int] = (160, 200),
                 square: tuple[int, int, int, int] = SQUARE) -> tuple[np.ndarray, np.ndarray]:
    """A saturated red square on plain grey, and its true mask."""
    before = np.full((*shape, 3), 128, np.uint8)
    truth = np.zeros(shape, bool)
    x0, y0, x1, y1 = square
    before[y0:y1, x0:x1] = (220, 30, 30)
    truth[y0:y1, x0:x1] = True
    return before, truth


def test_grabcut_keep_point_in_the_missed_half_recovers_the_whole_square() -> None:
    before, truth = square_photo()
    alpha = np.zeros(truth.shape, np.float32)
    alpha[40:120, 60:100] = 1.0  # the left half only

    result = GrabCutSegmenter()("k", before, alpha, Edit(points=((120, 80, 1),)))

    assert iou(result > 0.5, truth) > 0.9


def test_grabcut_keep_point_alone_finds_the_subject_an_empty_alpha_missed() -> None:
    before, truth = square_photo()
    empty = np.zeros(truth.shape, np.float32)

    found = GrabCutSegmenter()("k", before, empty, Edit(points=((120, 80, 1),)))
    nothing = GrabCutSegmenter()("k", before, empty, Edit(points=((20, 20, 0),)))

    assert iou(found > 0.5, truth) > 0.9
    assert not nothing.any()  # no foreground anywhere: nothing to cut


def test_grabcut_remove_point_drops_a_wrongly_included_blob() -> None:
    before, truth = square_photo()
    before[10:30, 10:40] = (30, 30, 220)  # a blue thing in the background
    alpha = truth.astype(np.float32)
    alpha[10:30, 10:40] = 1.0  # which the model took for the subject

    kept = GrabCutSegmenter()("k", before, alpha, Edit(points=((100, 80, 1),)))
    removed = GrabCutSegmenter()("k", before, alpha, Edit(points=((25, 20, 0),)))

    assert kept[10:30, 10:40].mean() > 0.9  # without the remove point GrabCut keeps it
    assert removed[10:30, 10:40].max() == 0.0
    assert iou(removed > 0.5, truth) > 0.9


def test_grabcut_box_excludes_everything_outside_it() -> None:
    before, truth = square_photo()
    before[10:30, 10:40] = (30, 30, 220)
    alpha = truth.astype(np.float32)
    alpha[10:30, 10:40] = 1.0
    box = (50, 30, 150, 130)

    result = GrabCutSegmenter()("k", before, alpha, Edit(box=box))

    outside = np.ones(truth.shape, bool)
    outside[30:130, 50:150] = False
    assert result[outside].max() == 0.0
    assert iou(result > 0.5, truth) > 0.9


def test_grabcut_keeps_the_soft_edge_where_it_agrees() -> None:
    before, truth = square_photo()
    alpha = truth.astype(np.float32)
    alpha[40:120, 60] = 0.7

    result = GrabCutSegmenter()("k", before, alpha, Edit(points=((100, 80, 1),)))

    assert result.dtype == np.float32
    assert np.allclose(result[40:120, 60], 0.7)


def test_grabcut_on_a_large_canvas_scales_the_points_to_its_working_size() -> None:
    # 1000 x 600 runs at 640 x 384: the point at x 800 is x 512, inside the square (448-576
    # there); unscaled it would land on the grey
    before, truth = square_photo((600, 1000), (700, 200, 900, 400))
    empty = np.zeros(truth.shape, np.float32)

    found = GrabCutSegmenter()("k", before, empty, Edit(points=((800, 300, 1),)))

    assert found.shape == truth.shape
    assert iou(found > 0.5, truth) > 0.9


# --------------------------------------------------------------------------- Segment Anything


@pytest.fixture(scope="module")
def sam_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sam")
    sam_encoder(folder / "encoder.onnx")
    sam_decoder(folder / "point.onnx", draw="point")
    sam_decoder(folder / "box.onnx", draw="box")
    return {name: folder / f"{name}.onnx" for name in ("encoder", "point", "box")}


def sam_model(files: dict[str, Path], draw: str = "point") -> tuple[SamModel, Recording]:
    def session(path: Path) -> Any:
        return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    encoder = Recording(session(files["encoder"]))
    return SamModel(MODELS["sam-vit-b"], encoder, session(files[draw]), Prompt(), None), encoder


CANVAS = (300, 400)  # h, w: letterboxed at 684 / 300 = 2.28 into the 1024 x 684 frame
SCALE = min(SAM_FRAME[1] / CANVAS[1], SAM_FRAME[0] / CANVAS[0])


def test_sam_embeds_each_photo_once_and_again_for_another_key(
    sam_files: dict[str, Path],
) -> None:
    model, encoder = sam_model(sam_files)
    segmenter = SamSegmenter(model)
    before = np.zeros((*CANVAS, 3), np.uint8)
    alpha = np.zeros(CANVAS, np.float32)
    edit = Edit(points=((100, 150, 1),))

    assert not segmenter.cached("a")
    first = segmenter("a", before, alpha, edit)
    second = segmenter("a", before, alpha, Edit(points=((300, 150, 1),)))

    assert len(encoder.feeds) == 1 and segmenter.cached("a")
    assert not np.array_equal(first, second)  # the decoder still ran for the new click
    segmenter("b", before, alpha, edit)
    assert len(encoder.feeds) == 2 and segmenter.cached("b")


def test_sam_cache_keeps_the_most_recently_used_embeddings(
    sam_files: dict[str, Path],
) -> None:
    model, encoder = sam_model(sam_files)
    segmenter = SamSegmenter(model, cache_size=2)
    before = np.zeros((*CANVAS, 3), np.uint8)

    for key in ("a", "b", "c"):
        segmenter.embedding(key, before)
    assert [segmenter.cached(k) for k in "abc"] == [False, True, True]  # a was the oldest

    segmenter.embedding("b", before)  # used again: now the newest
    segmenter.embedding("d", before)
    assert [segmenter.cached(k) for k in "bcd"] == [True, False, True]
    assert len(encoder.feeds) == 4


def test_sam_mask_lands_on_the_point_at_the_canvas_size(sam_files: dict[str, Path]) -> None:
    model, _ = sam_model(sam_files)

    alpha = SamSegmenter(model)("k", np.zeros((*CANVAS, 3), np.uint8),
                                np.zeros(CANVAS, np.float32), Edit(points=((100, 150, 1),)))

    assert alpha.shape == CANVAS and alpha.dtype == np.float32
    assert alpha.min() >= 0.0 and alpha.max() <= 1.0
    half = 40 / SCALE  # the decoder's 40 px, in canvas pixels
    ys, xs = np.nonzero(alpha > 0.5)
    box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    assert np.allclose(box, (100 - half, 150 - half, 100 + half, 150 + half), atol=1.5), box
    assert alpha[150, 100] > 0.99


def test_sam_box_becomes_the_two_corner_prompts(sam_files: dict[str, Path]) -> None:
    model, _ = sam_model(sam_files, draw="box")

    alpha = SamSegmenter(model)("k", np.zeros((*CANVAS, 3), np.uint8),
                                np.zeros(CANVAS, np.float32), Edit(box=(50, 60, 250, 200)))

    ys, xs = np.nonzero(alpha > 0.5)
    assert np.allclose((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1), (50, 60, 250, 200),
                       atol=1.5)


def test_grabcut_works_on_the_subject_and_marks_region_only() -> None:
    alpha = np.zeros((1000, 1000), np.float32)
    alpha[400:600, 100:300] = 1.0  # the subject: 200 x 200
    from studiocut.review.refine import _region

    # the subject and a point beside it (extent 400 px), padded by 15 % of that plus 16 px
    assert _region(alpha, Edit(points=((500, 500, 1),))) == (24, 324, 577, 677)
    # a box decides alone
    assert _region(alpha, Edit(box=(0.0, 0.0, 100.0, 100.0))) == (0, 0, 132, 132)
    # no subject yet: a keep point does not say how large it is
    assert _region(np.zeros_like(alpha), Edit(points=((5, 5, 1),))) == (0, 0, 1000, 1000)


def test_grabcut_with_no_background_to_learn_from_leaves_alpha_as_it_is() -> None:
    before, _ = square_photo()
    everything = np.ones(before.shape[:2], np.float32)

    found = GrabCutSegmenter()("k", before, everything, Edit(points=((50, 50, 1),)))

    assert np.array_equal(found, everything)
