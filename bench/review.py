"""What the review page costs: the artefacts kept for every photo, and how fast a refine answers
(on demand, not in CI).

    python bench/review.py [--side 2000] [--runs 5]

On a synthetic product photo framed on a SIDE x SIDE canvas, measures (median of --runs):

- the artefacts a worker writes after each photo: without the framed original (an unflagged
  result), and with it (flagged or held);
- a refine: a remove stroke with edge shift and feather; a keep point through GrabCut;
- bare u2netp inference in the same run, as the yardstick (the artefacts must hide behind it).

No figure here is asserted: timings depend on the machine and are read by people.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from studiocut.review import refine
from studiocut.review.artefacts import Store
from throughput import bare_inference, ensure_photos


def median_ms(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def canvas(side: int) -> tuple[np.ndarray, np.ndarray]:
    """A textured bottle-like subject on a light backdrop, and its soft alpha."""
    rng = np.random.default_rng(0)
    before = np.full((side, side, 3), 232, np.uint8)
    alpha = np.zeros((side, side), np.float32)
    cv2.rectangle(alpha, (side // 3, side // 5), (2 * side // 3, 9 * side // 10), 1.0, -1)
    cv2.circle(alpha, (side // 2, side // 5), side // 6, 1.0, -1)
    alpha = np.asarray(cv2.GaussianBlur(alpha, (0, 0), 1.5), np.float32)
    texture = rng.integers(0, 40, (side, side, 3), dtype=np.uint8)
    subject = (np.array([40, 110, 70], np.uint8) + texture)
    before = (alpha[..., None] * subject + (1 - alpha[..., None]) * before).astype(np.uint8)
    return before, alpha


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    side, runs = args.side, args.runs
    before, alpha = canvas(side)
    result = cv2.imencode(".jpg", before)[1].tobytes()
    store = Store(Path(tempfile.mkdtemp(prefix="studiocut-bench-review-")))

    photo = ensure_photos(Path(tempfile.gettempdir()) / "studiocut-bench" / "review", 1,
                          (1200, 800))[0]
    bare = bare_inference(photo, "u2netp", cores=1, runs=10)
    inference_ms = 1000 / max(r.per_second for r in bare.values())

    lean = median_ms(lambda: store.write(1, before, alpha, result, "jpg", with_before=False),
                     runs)
    full = median_ms(lambda: store.write(1, before, alpha, result, "jpg"), runs)
    stroke = refine.parse({"strokes": [{"mode": "remove", "radius": 30,
                                        "points": [[side // 2, side // 3],
                                                   [side // 2, side // 2]]}],
                           "edge": {"shift": 2, "feather": 2}}, (side, side))
    point = refine.parse({"points": [{"x": side // 2, "y": side // 2, "label": 1}]},
                         (side, side))
    grabcut = refine.GrabCutSegmenter()
    stroke_ms = median_ms(lambda: refine.apply(1, before, alpha, stroke, grabcut), runs)
    point_ms = median_ms(lambda: refine.apply(1, before, alpha, point, grabcut), runs)

    rows = [
        ("artefacts of an unflagged photo", lean),
        ("artefacts of a flagged or held photo", full),
        ("refine: remove stroke, shift, feather", stroke_ms),
        ("refine: keep point (GrabCut)", point_ms),
    ]
    print(f"{side} x {side} canvas; bare u2netp inference {inference_ms:.0f} ms "
          "(one core, in this run)")
    print(f"{'what':<40} | {'ms':>7} | {'x inference':>11}")
    for label, ms in rows:
        print(f"{label:<40} | {ms:7.1f} | {ms / inference_ms:11.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
