"""key: BackdropKey, keying on synthetic shots whose true alpha is known.

Each shot is made as a camera would see it: I = a F + (1 - a) B, with the alpha ``a`` drawn
here, so the key's answer can be held against the truth. Lab distances are in OpenCV's
8-bit Lab, the units ``key.tolerance`` is given in.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from conftest import make_profile
from studiocut.imaging import pipeline
from studiocut.models import predict
from studiocut.models.key import NEUTRAL_CHROMA, BackdropKey, chroma
from studiocut.models.registry import KeySettings

GREEN = (0, 177, 64)  # "#00B140", chroma-key green
SWEEP = (250, 250, 250)  # a white paper sweep
PLAIN = KeySettings(assist="none")


def soft_ellipse(h: int = 160, w: int = 200, *, edge: float = 6.0) -> np.ndarray:
    """True alpha: an ellipse whose edge ramps from 0 to 1 over ``edge`` pixels."""
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot((xx - w / 2) / 1.25, yy - h / 2)
    return np.asarray(np.clip((50 - r) / edge + 0.5, 0, 1), dtype=np.float32)


def shoot(alpha: np.ndarray, subject: tuple[int, int, int] | np.ndarray,
          backdrop: tuple[int, int, int]) -> np.ndarray:
    """The photo of ``subject`` seen through ``alpha`` against ``backdrop``."""
    a = alpha[..., np.newaxis]
    image = a * np.asarray(subject, np.float32) + (1 - a) * np.asarray(backdrop, np.float32)
    return np.asarray(image + 0.5, dtype=np.uint8)


def iou(alpha: np.ndarray, truth: np.ndarray) -> float:
    found, real = alpha > 0.5, truth > 0.5
    return float((found & real).sum() / (found | real).sum())


def lab_distance(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    pair = cv2.cvtColor(np.asarray([[a, b]], np.uint8), cv2.COLOR_RGB2LAB).astype(np.float32)
    return float(np.linalg.norm(pair[0, 0] - pair[0, 1]))


class StubAssist:
    """A saliency model that knows the answer: the true mask, at a model's low resolution.
    ``calls`` counts predictions."""

    name = "stub"
    input_size = (48, 48)

    def __init__(self, truth: np.ndarray) -> None:
        self.mask = cv2.resize(truth.astype(np.float32), self.input_size,
                               interpolation=cv2.INTER_AREA)
        self.calls = 0

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        self.calls += 1
        return self.mask


# --------------------------------------------------------------------------- coloured screens


def test_backdrop_key_separates_a_subject_from_a_green_screen() -> None:
    pixels = np.empty((150, 200, 3), dtype=np.uint8)
    pixels[:] = (20, 170, 60)
    pixels[40:110, 60:140] = (150, 110, 80)  # a brown box
    pixels[60:90, 80:120] = (245, 245, 240)  # with a white label
    truth = np.zeros((150, 200), dtype=bool)
    truth[40:110, 60:140] = True

    mask = predict.load("backdrop-key").predict(pixels)

    assert mask.shape == (150, 200)
    assert mask.min() >= 0.0 and mask.max() <= 1.0
    assert mask[truth].min() > 0.99
    assert mask[~truth].max() < 0.01


def test_backdrop_key_works_on_a_reduced_copy_of_a_large_frame() -> None:
    pixels = np.empty((300, 400, 3), dtype=np.uint8)
    pixels[:] = (20, 170, 60)
    pixels[100:200, 150:250] = (200, 40, 40)

    mask = BackdropKey(work=100).predict(pixels)

    assert mask.shape == (75, 100)  # the model's own resolution; the frame is the same
    assert mask[30:45, 42:58].min() > 0.99
    assert mask[:20].max() < 0.01


def test_key_alpha_on_a_green_screen_follows_a_soft_edged_subject() -> None:
    truth = soft_ellipse(edge=6.0)
    shot = shoot(truth, (150, 90, 70), GREEN)

    alpha = BackdropKey(PLAIN).predict(shot)

    assert alpha.shape == truth.shape and alpha.dtype == np.float32
    assert alpha[truth == 0].max() == 0.0 and alpha[truth == 1].min() == 1.0  # exact off the edge
    # across the edge alpha only ever rises towards the subject (measured on one radius)
    row = alpha[80, 100:][::-1]
    assert np.all(np.diff(row) >= 0)
    # measured: mean |alpha - truth| 0.017 over the frame, IoU of the 0.5 contours 0.951.
    # The tolerance ramp saturates before the true edge does, so the soft band itself is
    # keyed harder than it is (mean error 0.24 there); matting: true is what recovers it.
    assert np.abs(alpha - truth).mean() < 0.03
    assert iou(alpha, truth) > 0.93


def test_profile_colour_overrides_the_border_estimate() -> None:
    shot = np.empty((120, 160, 3), np.uint8)
    shot[:] = (90, 90, 90)  # the studio wall around a screen that does not fill the frame
    shot[15:105, 15:145] = GREEN
    shot[40:80, 50:110] = (200, 40, 40)
    screen = np.zeros(shot.shape[:2], bool)
    screen[15:105, 15:145] = True
    screen[40:80, 50:110] = False

    guessed = BackdropKey(PLAIN).predict(shot)
    told = BackdropKey(KeySettings(colour=GREEN, assist="none")).predict(shot)

    assert BackdropKey(PLAIN).backdrop_colour(shot) == (90, 90, 90)  # the border's median
    assert guessed[screen].min() == 1.0  # keyed against the wall, the screen is "subject"
    assert BackdropKey(KeySettings(colour=GREEN)).backdrop_colour(shot) == GREEN
    assert told[screen].max() == 0.0
    assert told[40:80, 50:110].min() == 1.0


def test_alpha_ramps_linearly_with_lab_distance_between_the_two_tolerances() -> None:
    backdrop = (128, 128, 128)
    greys = [(g, g, g) for g in (132, 140, 148, 156, 164, 172, 180)]
    shot = np.empty((40, 10 * len(greys), 3), np.uint8)
    shot[:] = backdrop
    for i, grey in enumerate(greys):
        shot[15:25, 10 * i + 2:10 * i + 8] = grey
    low, high = 12.0, 40.0

    alpha = BackdropKey(KeySettings(tolerance=(low, high), assist="none")).predict(shot)

    got = [float(alpha[20, 10 * i + 5]) for i in range(len(greys))]
    want = [min(1.0, max(0.0, (lab_distance(g, backdrop) - low) / (high - low)))
            for g in greys]
    assert np.allclose(got, want, atol=1e-5)
    assert got[0] == 0.0 and got[-1] == 1.0  # 4 below the low tolerance, 50 above the high
    assert 0.0 < got[2] < got[3] < got[4] < 1.0


def test_a_wider_tolerance_keys_more_of_a_faint_subject_as_backdrop() -> None:
    shot = np.full((40, 40, 3), 128, np.uint8)
    shot[10:30, 10:30] = 156  # 27 from the backdrop

    def centre(tolerance: tuple[float, float]) -> float:
        alpha = BackdropKey(KeySettings(tolerance=tolerance, assist="none")).predict(shot)
        return float(alpha[20, 20])

    assert centre((2.0, 10.0)) == 1.0
    assert 0.4 < centre((12.0, 40.0)) < 0.6
    assert centre((30.0, 60.0)) == 0.0


# --------------------------------------------------------------------------- despill


def spilled_shot(backdrop: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A tan box whose faces caught the screen's green (G above the mean of R and B)."""
    alpha = np.zeros((100, 120), np.float32)
    alpha[25:75, 30:90] = 1.0
    shot = shoot(alpha, (170, 150, 100), backdrop)
    return shot, alpha


def green_excess(rgb: np.ndarray) -> np.ndarray:
    pixels = rgb.astype(np.float32)
    return np.asarray(pixels[..., 1] - (pixels[..., 0] + pixels[..., 2]) / 2)


def test_despill_takes_the_green_cast_off_a_subject_on_a_green_screen() -> None:
    shot, alpha = spilled_shot(GREEN)
    subject = alpha == 1
    assert green_excess(shot)[subject].min() == 15

    clean = BackdropKey(PLAIN).despill(shot, alpha)

    assert green_excess(clean)[subject].max() <= 0.5  # G no longer above the mean of R and B
    assert np.array_equal(clean[subject][:, [0, 2]], shot[subject][:, [0, 2]])  # R, B kept


def test_despill_uses_the_profile_colour_when_no_backdrop_is_in_the_frame() -> None:
    shot, _ = spilled_shot(GREEN)
    tight = shot[25:75, 30:90]  # cropped to the subject: no backdrop to take the colour from

    assert np.array_equal(BackdropKey(PLAIN).despill(tight, np.ones((50, 60), np.float32)),
                          tight)
    told = BackdropKey(KeySettings(colour=GREEN, assist="none"))
    assert green_excess(told.despill(tight, np.ones((50, 60), np.float32))).max() <= 0.5


def test_despill_changes_nothing_on_a_neutral_backdrop() -> None:
    shot, alpha = spilled_shot(SWEEP)
    assert chroma(SWEEP) < NEUTRAL_CHROMA

    assert np.array_equal(BackdropKey(PLAIN).despill(shot, alpha), shot)
    told = BackdropKey(KeySettings(colour=SWEEP, assist="none"))
    assert np.array_equal(told.despill(shot, alpha), shot)


def test_despill_changes_nothing_with_spill_off() -> None:
    shot, alpha = spilled_shot(GREEN)

    keyer = BackdropKey(KeySettings(colour=GREEN, spill=False, assist="none"))

    assert np.array_equal(keyer.despill(shot, alpha), shot)


# --------------------------------------------------------------------------- white on white


def white_product() -> tuple[np.ndarray, np.ndarray]:
    """A near-white product (245, 245, 243) with a slightly darker outline, on a white
    sweep: the colour alone cannot tell it from the backdrop."""
    truth = np.zeros((200, 240), np.uint8)
    cv2.ellipse(truth, (120, 100), (60, 75), 0, 0, 360, 1, -1)
    shot = np.empty((200, 240, 3), np.uint8)
    shot[:] = SWEEP
    shot[truth == 1] = (245, 245, 243)
    outline = truth - cv2.erode(truth, np.ones((3, 3), np.uint8))
    shot[outline == 1] = (215, 215, 212)
    return shot, truth.astype(np.float32)


def test_a_white_product_on_a_white_sweep_is_holes_to_a_plain_key() -> None:
    shot, truth = white_product()

    alpha = BackdropKey(PLAIN).predict(shot)

    assert iou(alpha, truth) < 0.2  # measured 0.04: only the outline shows


def test_the_assisted_key_takes_the_model_where_the_colour_cannot_decide() -> None:
    shot, truth = white_product()
    stub = StubAssist(truth)

    alpha = BackdropKey(KeySettings(), assist=stub).predict(shot)

    assert stub.calls == 1
    assert iou(alpha, truth) > 0.95  # measured 0.99
    assert alpha[truth == 0].mean() < 0.01


def test_the_assisted_key_keeps_the_key_where_it_is_decisive() -> None:
    shot, truth = white_product()
    shot[90:110, 20:60] = (40, 40, 40)  # a black cable the model misses, on the sweep
    shot[10:20, 200:230] = (249, 249, 249)  # a crease in the sweep the model calls subject
    guess = truth.copy()
    guess[5:25, 195:235] = 1.0
    stub = StubAssist(guess)

    alpha = BackdropKey(KeySettings(), assist=stub).predict(shot)

    assert alpha[95:105, 25:55].min() == 1.0  # clearly subject-coloured: the key decides
    assert alpha[12:18, 205:225].min() > 0.9  # not decisive (the crease is sweep-coloured):
    # the model decides there, which is the rule's price on a neutral sweep


def test_the_assist_is_not_asked_on_a_coloured_screen() -> None:
    truth = soft_ellipse()
    shot = shoot(truth, (245, 245, 243), GREEN)  # a white product on green
    stub = StubAssist(np.zeros_like(truth))  # a model that would wipe it out

    alpha = BackdropKey(KeySettings(), assist=stub).predict(shot)

    assert stub.calls == 0
    assert np.array_equal(alpha, BackdropKey(PLAIN).predict(shot))
    assert iou(alpha, truth) > 0.93


# --------------------------------------------------------------------------- through a profile


def test_a_green_screen_jpeg_becomes_a_white_backdrop_jpeg_without_a_green_fringe(
    tmp_path: Path,
) -> None:
    truth = soft_ellipse(240, 320, edge=6.0)
    source = tmp_path / "in" / "mug.jpg"
    source.parent.mkdir()
    Image.fromarray(shoot(truth, (190, 120, 90), GREEN)).save(source, quality=95)
    profile = make_profile(model="backdrop-key", key={"assist": "none", "colour": "#00B140"})
    model = predict.open_model(profile.model_request())
    assert isinstance(model, BackdropKey) and model.assist is None
    assert model.settings.colour == GREEN

    (tmp_path / "out").mkdir()

    outcome = pipeline.process(source, model, profile, output_root=tmp_path / "out")

    assert outcome.ok and outcome.output is not None
    with Image.open(outcome.output) as written:
        assert written.format == "JPEG"
        out = np.asarray(written.convert("RGB"), dtype=np.float32)
    assert out.shape == (*truth.shape, 3)
    assert out[truth == 0].mean() > 253  # the screen is gone: white
    with Image.open(source) as shot:
        seen = np.asarray(shot.convert("RGB"), dtype=np.float32)
    naive = truth[..., np.newaxis] * seen + (1 - truth[..., np.newaxis]) * 255.0
    band = (truth > 0.05) & (truth < 0.95)
    # measured: +20 green in the edge band of the naive blend, -1 in studiocut's output
    assert green_excess(naive)[band].mean() > 15
    assert green_excess(out)[band].mean() < 3
