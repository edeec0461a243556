"""bench_sets: ``bench/quality.py --set studio|plain``, the table of issue 16.

Every method is a transparent PNG profile without framing (so the output's alpha aligns with
the ground truth), run through ``pipeline.cut`` on each photo, scored as ``quality.py`` scores
(mae, and band: the MAE inside the trimap's unknown zone). The data is read from ``--eval`` at
run time and nothing derived from it is written.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image

from quality import metrics, warm_up
from studiocut import profiles
from studiocut.errors import StudiocutError
from studiocut.imaging import pipeline
from studiocut.models import predict, registry

BACKDROPS = ("white", "grey", "green", "pale")
METHODS = {  # name: (model, matting)
    "u2netp": ("u2netp", False),
    "u2netp+matting": ("u2netp", True),
    "backdrop-key": ("backdrop-key", False),
    "backdrop-key+matting": ("backdrop-key", True),
    "auto": ("auto", False),  # the studio path has its own matting; the model path none
    "auto+matting": ("auto", True),  # the model path with matting (the studio path as auto)
}
BASELINE = "u2netp+matting"


def profile_for(method: str) -> profiles.Profile:
    model, matting = METHODS[method]
    return profiles.parse({"model": model, "matting": matting, "backdrop": "transparent",
                           "format": "png", "square": False}, name=method, source="<bench>")


def photos(set_name: str, eval_dir: Path) -> dict[str, list[tuple[Path, Path, Path]]]:
    """Per backdrop: (image, ground truth, trimap) of every ground-truth stem."""
    gts = sorted((eval_dir / "alphamatting" / "gt").glob("*.png"))
    trimaps = eval_dir / "alphamatting" / "trimap"
    if set_name == "plain":
        folder = eval_dir / "alphamatting" / "image"
        return {"plain": [(folder / gt.name, gt, trimaps / gt.name) for gt in gts]}
    return {b: [(eval_dir / "studio" / b / f"{gt.stem}.jpg", gt, trimaps / gt.name)
                for gt in gts] for b in BACKDROPS}


def score(image: Path, gt_path: Path, trimap: Path, model: registry.MaskModel,
          profile: profiles.Profile) -> tuple[float, float, float, str | None, bool]:
    """(mae, band, seconds, the path auto took, whether matting failed) for one photo;
    a failed cut counts as all-zero alpha."""
    gt = np.asarray(Image.open(gt_path).convert("L"), dtype=np.float64) / 255.0
    tri = np.asarray(Image.open(trimap).convert("L"))
    band = (tri > 0) & (tri < 255)
    started = time.perf_counter()
    alpha, path, failed = np.zeros_like(gt), None, False
    try:
        result = pipeline.cut(image, model, profile)
    except StudiocutError:
        failed = True
    else:
        if result.image.shape[:2] == gt.shape:
            alpha = result.image[..., 3].astype(np.float64) / 255.0
        signals = result.signals
        if signals is not None:
            path, failed = signals.path, signals.matting_failed is not None
    seconds = time.perf_counter() - started
    mae, _, _, _, band_mae = metrics(alpha, gt, band)
    return mae, float(band_mae or 0.0), seconds, path, failed


def run_sets(set_name: str, eval_dir: Path, methods: list[str]) -> int:
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        print(f"error: unknown method(s) {', '.join(unknown)} (known: {', '.join(METHODS)})")
        return 2
    sets = photos(set_name, eval_dir)
    table: dict[str, dict[str, tuple[float, float]]] = {}
    seconds: dict[str, list[float]] = {}
    notes: dict[str, list[str]] = {}
    for method in methods:
        profile = profile_for(method)
        try:
            model = predict.open_model(profile.model_request())
        except StudiocutError as e:
            print(f"error: {method}: {e}")
            return 2
        first = next(iter(sets.values()))[0][0]
        warm_up(first, model, profile)
        for backdrop, items in sets.items():
            rows = [score(*item, model, profile) for item in items]
            table.setdefault(method, {})[backdrop] = (float(np.mean([r[0] for r in rows])),
                                                      float(np.mean([r[1] for r in rows])))
            seconds.setdefault(method, []).extend(r[2] for r in rows)
            failed = sum(r[4] for r in rows)
            if failed:
                notes.setdefault(method, []).append(f"{backdrop}: matting failed on {failed}")
            if METHODS[method][0] == "auto":
                studio = sum(r[3] == "studio" for r in rows)
                notes.setdefault(method, []).append(
                    f"{backdrop}: studio path on {studio} of {len(rows)}")
            print(f"  {method} {backdrop} done", flush=True)
    print(markdown(table, seconds, notes, list(sets)))
    return 0


def markdown(table: dict[str, dict[str, tuple[float, float]]], seconds: dict[str, list[float]],
             notes: dict[str, list[str]], backdrops: list[str]) -> str:
    base = float(np.mean(seconds[BASELINE])) if BASELINE in seconds else None
    lines = ["| method | " + " | ".join(backdrops) + " | s/photo | notes |",
             "| --- " * (len(backdrops) + 3) + "|"]
    for method, row in table.items():
        s = float(np.mean(seconds[method]))
        ratio = f" ({s / base:.2f} x)" if base else ""
        cells = " | ".join(f"{row[b][0]:.4f} / {row[b][1]:.3f}" for b in backdrops)
        lines.append(f"| {method} | {cells} | {s:.2f}{ratio} | "
                     f"{'; '.join(notes.get(method, []))} |")
    return "\n".join(lines)
