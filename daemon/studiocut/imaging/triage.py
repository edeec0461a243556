"""triage: which cut-outs need a human look, and why.

No model is right every time. Each result is measured (how much of its alpha is unsure,
whether the subject runs off the frame, how much of the frame it fills, how many separate
subjects there are, how decisive the model was); the profile's ``review`` rules turn those
signals into reasons.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from studiocut.profiles import Review


@dataclass(frozen=True)
class Signals:
    """Per-image measurements, each in [0, 1] except ``subjects``."""

    uncertain: float  # share of the subject's pixels with alpha between 0.1 and 0.9
    touches_border: bool  # the subject reaches an edge of the frame
    area: float  # share of the frame the subject covers
    subjects: int  # separate subjects at least 5 % the size of the largest
    confidence: float  # how decisive the model's mask is around the subject (1: fully)
    matting_failed: str | None = None  # why alpha matting gave no answer (the mask was used)
    path: str | None = None  # model: auto only: "studio" (plain backdrop) or "model"
    decision: str | None = None  # model: auto only: why that path, in words
    disagreement: float | None = None  # studio path only: share of the subject it and the
    # model disagree on (alpha >= 0.5 on one side only, over the area either calls subject)


def measure(mask: np.ndarray, alpha: np.ndarray, *, matting_failed: str | None = None,
            path: str | None = None, decision: str | None = None,
            disagreement: float | None = None) -> Signals:
    """Given the model's mask of the whole frame and the final alpha of the working region
    (and why matting failed, if it did; which path ``model: auto`` took and why, and how
    much the studio path and the model disagreed), return the signals."""
    inside = mask > 0.5
    touching = bool(inside[0].any() or inside[-1].any() or inside[:, 0].any()
                    or inside[:, -1].any())
    count, _, stats, _ = cv2.connectedComponentsWithStats(inside.astype(np.uint8), connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA] if count > 1 else np.zeros(0)
    subjects = int((areas >= 0.05 * areas.max()).sum()) if areas.size else 0
    near = mask > 0.02
    confidence = float(np.abs(2.0 * mask[near] - 1.0).mean()) if near.any() else 0.0
    # counted by OpenCV's vectorised scans: numpy's masks take 4 ms for a 2000 px alpha
    alpha = np.asarray(alpha, dtype=np.float32)
    present = cv2.countNonZero(cv2.inRange(alpha, _ABOVE_0_1, 2.0))
    unsure = cv2.countNonZero(cv2.inRange(alpha, _ABOVE_0_1, _BELOW_0_9))
    uncertain = unsure / present if present else 0.0
    return Signals(uncertain=round(uncertain, 4), touches_border=touching,
                   area=round(float(inside.mean()), 4), subjects=subjects,
                   confidence=round(confidence, 4), matting_failed=matting_failed,
                   path=path, decision=decision,
                   disagreement=None if disagreement is None else round(disagreement, 4))


_ABOVE_0_1 = float(np.nextafter(np.float32(0.1), np.float32(1)))  # inRange's bounds are
_BELOW_0_9 = float(np.nextafter(np.float32(0.9), np.float32(0)))  # inclusive: alpha > 0.1


def disagreement(studio: np.ndarray, model: np.ndarray) -> float:
    """The share of the subject (the pixels either alpha puts at 0.5 or more) on which the
    studio path's alpha and the model's mask (same size) disagree."""
    a, b = studio >= 0.5, model >= 0.5
    union = int((a | b).sum())
    return float((a ^ b).sum() / union) if union else 0.0


def reasons(signals: Signals, rules: Review | None) -> tuple[str, ...]:
    """The reasons ``signals`` break ``rules``, in words an operator understands."""
    if rules is None:
        return ()
    found = []
    if signals.matting_failed is not None:  # a person should see the soft edges it lacks
        found.append(f"alpha matting failed ({signals.matting_failed}); the model's mask "
                     "was used")
    if rules.max_uncertain is not None and signals.uncertain > rules.max_uncertain:
        found.append(f"unsure edges: {signals.uncertain:.1%} of the subject is partly "
                     f"transparent (limit {_percent(rules.max_uncertain)})")
    if rules.touches_border and signals.touches_border:
        found.append("the subject touches the edge of the frame (cropped product?)")
    if rules.min_area is not None and signals.area < rules.min_area:
        found.append(f"subject too small: {signals.area:.1%} of the frame "
                     f"(limit {_percent(rules.min_area)})")
    if rules.max_area is not None and signals.area > rules.max_area:
        found.append(f"subject too large: {signals.area:.1%} of the frame "
                     f"(limit {_percent(rules.max_area)}; is the backdrop cut out?)")
    if rules.several_subjects and signals.subjects > 1:
        found.append(f"{signals.subjects} separate subjects")
    if (rules.max_disagreement is not None and signals.disagreement is not None
            and signals.disagreement > rules.max_disagreement):
        found.append(f"the backdrop key and the model disagree on {signals.disagreement:.1%} "
                     f"of the subject (limit {_percent(rules.max_disagreement)})")
    if rules.min_confidence is not None and signals.confidence < rules.min_confidence:
        found.append(f"low model confidence: {signals.confidence:.2f} "
                     f"(limit {rules.min_confidence:g})")
    return tuple(found)


def _percent(limit: float) -> str:
    """A limit as the percentage the profile gave, not rounded away (0.005 is 0.5%)."""
    return f"{limit * 100:g}%"


def breaches(found: tuple[str, ...], rules: Review | None) -> tuple[str, ...]:
    """Reasons found outside the signals (a marketplace preset's rules the encoded file
    breaks, a set's framing a view does not fit) as flags: all of them, unless the profile
    flags nothing (``review: false``)."""
    return found if rules is not None else ()


def misfit(sku: str | None) -> str:
    """Why a view of a set was framed on its own: it did not fit the set's framing."""
    of = f" (SKU {sku})" if sku else ""
    return (f"does not fit at the scale and floor line of its set's first view{of}: framed "
            "on its own, so it will not line up with the other views")


def of_rendition(name: str, reason: str) -> str:
    """A reason that concerns one rendition of a photo, saying which."""
    return f"rendition {name}: {reason}"
