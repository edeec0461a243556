"""Cut-out quality against ground-truth alpha mattes (on demand, not in CI).

Runs ``studiocut.imaging.pipeline.cut`` with one profile on every image of an evaluation set
and compares the alpha of each result with the ground truth, with the figures of the reference
scorer (``shared/eval/score.py``) computed the same way:

- ``mae``  mean |alpha - gt| over all pixels, alpha in [0, 1]
- ``sad``  sum |alpha - gt| / 1000 per image (the matting convention)
- ``mse``  mean squared error
- ``iou``  IoU of alpha >= 0.5 against gt >= 0.5
- ``band`` MAE inside the trimap's unknown band (0 < trimap < 255), with ``--trimap``

``seconds`` is the wall time of ``cut()`` per image, after one untimed warm-up cut. The alpha
is the 8-bit alpha of the finished RGBA image, exactly what a PNG output holds, so the
figures match what ``score.py`` reads back from the files that ``--out`` writes. A missing,
failed or wrongly sized prediction counts as all-zero alpha, as in ``score.py``.

The profile must keep output pixels aligned with the input: transparent backdrop, PNG, no square
framing (see ``bench/profiles/eval-cutout.yaml`` and ``eval-matting.yaml``).

Run from the repository root::

    python bench/quality.py --profile bench/profiles/eval-cutout.yaml \\
        --images ../shared/eval/alphamatting/image --gt ../shared/eval/alphamatting/gt \\
        --trimap ../shared/eval/alphamatting/trimap [--out /tmp/qout] [--json]

``--set studio`` (or ``--set plain``) runs every method of issue 16 instead, each with its own
transparent PNG profile (u2netp, u2netp + matting, backdrop-key, backdrop-key + matting, auto,
auto + matting) on the four backdrops of ``<eval>/studio`` (white, grey, green, pale; ground
truth and trimaps from ``<eval>/alphamatting``) or on the plain alphamatting images, and prints
a markdown table of mae / band per backdrop, the seconds per photo against u2netp + matting,
and how often ``auto`` took the studio path::

    python bench/quality.py --set studio --eval ../shared/eval [--methods auto,u2netp+matting]

The evaluation data may not be redistributed: it is read from the paths given and nothing
derived from it (``--out`` holds cut-outs of its images) may be written inside the repository.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from studiocut import profiles
from studiocut.errors import StudiocutError
from studiocut.imaging import encode, pipeline
from studiocut.models import predict
from studiocut.models.registry import MaskModel

REPO = Path(__file__).resolve().parent.parent
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".bmp")
METRICS = ("mae", "sad", "mse", "iou", "band")


@dataclass(frozen=True)
class Row:
    """The figures of one image; ``band`` is None without a trimap, ``note`` says why a
    prediction counted as all-zero alpha."""

    stem: str
    mae: float
    sad: float
    mse: float
    iou: float
    band: float | None
    seconds: float
    note: str = ""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.set is not None:
        from bench_sets import run_sets  # the issue-16 table; kept apart to stay short

        return run_sets(args.set, args.eval.expanduser().resolve(), args.methods.split(","))
    if args.images is None or args.gt is None:
        return _fail("--profile, --images and --gt are needed without --set")
    try:
        profile = profiles.resolve(args.profile, None)
    except StudiocutError as e:
        return _fail(str(e))
    problem = unsuitable(profile)
    if problem:
        return _fail(f"{args.profile}: {problem}")
    out = args.out.expanduser().resolve() if args.out else None
    if out is not None and (out == REPO or REPO in out.parents):
        return _fail(f"{out}: inside the repository; the evaluation data may not be copied "
                     "there (cut-outs of its images included): give a folder outside it")
    gts = sorted(args.gt.glob("*.png"))
    if not gts:
        return _fail(f"{args.gt}: no ground-truth *.png files")
    try:
        model = predict.load(profile.model)
    except StudiocutError as e:
        return _fail(str(e))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)

    images = {p.stem: p for p in args.images.iterdir()
              if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES}
    warm_up(images.get(gts[0].stem), model, profile)
    rows = [evaluate(gt, images.get(gt.stem), model, profile, trimap_dir=args.trimap, out=out)
            for gt in gts]
    summary = mean(rows)
    if args.json:
        print(json.dumps({"profile": profile.name, "model": profile.model,
                          "matting": profile.matting.enabled, "n": len(rows),
                          "failed": sum(bool(r.note) for r in rows), "summary": summary,
                          "rows": [asdict(r) for r in rows]}))
    else:
        print(table(rows, summary, title=f"profile {profile.name} (model {profile.model}, "
                    f"matting {'on' if profile.matting.enabled else 'off'})"))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=("studio", "plain"), default=None,
                        help="run every method on the studio backdrops or the plain set")
    parser.add_argument("--eval", type=Path, default=Path("../shared/eval"), metavar="DIR",
                        help="the evaluation data, with --set (default ../shared/eval)")
    parser.add_argument("--methods", default="u2netp,u2netp+matting,backdrop-key,"
                        "backdrop-key+matting,auto,auto+matting",
                        help="with --set: which, comma-separated")
    parser.add_argument("--profile", default="default", metavar="P",
                        help="profile name (e.g. default) or path to a .yaml file")
    parser.add_argument("--images", type=Path, default=None, metavar="DIR",
                        help="input images, one per ground-truth stem")
    parser.add_argument("--gt", type=Path, default=None, metavar="DIR",
                        help="ground-truth alpha mattes (*.png, 8-bit)")
    parser.add_argument("--trimap", type=Path, default=None, metavar="DIR",
                        help="trimaps named like the ground truth, for the band figure")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="also write each result there as <stem>.png (outside the repo), "
                        "for a cross-check with score.py")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def unsuitable(profile: profiles.Profile) -> str | None:
    """Return why ``profile``'s outputs cannot be scored pixel for pixel, or None."""
    if profile.square is not None:
        return ("the profile has square framing, so output pixels do not align with the input; "
                "use one with 'square: false'")
    if not profile.transparent:
        return ("the profile composites onto a backdrop, so there is no alpha to score; "
                "use one with 'backdrop: transparent'")
    if profile.encoding.format != "png":
        return f"the profile writes {profile.encoding.format}; use one with 'format: png'"
    return None


def warm_up(image: Path | None, model: MaskModel, profile: profiles.Profile) -> None:
    """Cut out ``image`` once, untimed, so that one-time costs (the first inference, the JIT
    compilation of the matting solver: about 30 s) stay out of the per-image seconds."""
    if image is not None:
        with contextlib.suppress(StudiocutError):  # evaluate() reports it
            pipeline.cut(image, model, profile)


def evaluate(gt_path: Path, image: Path | None, model: MaskModel,
             profile: profiles.Profile, *, trimap_dir: Path | None, out: Path | None) -> Row:
    """Cut out ``image`` with ``profile`` and score its alpha against ``gt_path``."""
    gt_im = Image.open(gt_path).convert("L")
    gt = np.asarray(gt_im, dtype=np.float64) / 255.0
    band = None
    if trimap_dir is not None:
        tri = np.asarray(Image.open(trimap_dir / gt_path.name).convert("L"))
        band = (tri > 0) & (tri < 255)
    alpha, note, seconds = None, "", 0.0
    if image is None:
        note = "no input image"
    else:
        started = time.perf_counter()
        try:
            result = pipeline.cut(image, model, profile)
        except StudiocutError as e:
            note = f"failed: {e}"
        else:
            seconds = time.perf_counter() - started
            rgba = result.image
            if rgba.shape[:2] != gt.shape:
                note = f"size {rgba.shape[1]}x{rgba.shape[0]} != ground truth {gt_im.size}"
            else:
                alpha = rgba[..., 3].astype(np.float64) / 255.0
            if out is not None:
                framed = result.framed
                data = encode.encode(rgba, profile.encoding, icc=framed.icc,
                                     metadata=framed.metadata)
                (out / f"{gt_path.stem}.png").write_bytes(data)
    if alpha is None:
        alpha = np.zeros_like(gt)
    return Row(gt_path.stem, *metrics(alpha, gt, band), seconds=seconds, note=note)


def metrics(alpha: np.ndarray, gt: np.ndarray,
            band: np.ndarray | None) -> tuple[float, float, float, float, float | None]:
    """Return (mae, sad, mse, iou, band MAE) for alpha and ground truth in [0, 1], as score.py
    defines them; band MAE is None without a band and 0 for an empty one."""
    d = np.abs(alpha - gt)
    inter = np.logical_and(alpha >= 0.5, gt >= 0.5).sum()
    union = np.logical_or(alpha >= 0.5, gt >= 0.5).sum()
    band_mae = None if band is None else float(d[band].mean()) if band.any() else 0.0
    return (float(d.mean()), float(d.sum() / 1000), float((d**2).mean()),
            float(inter / max(union, 1)), band_mae)


def mean(rows: list[Row]) -> dict[str, float | None]:
    """The mean of each figure over all rows (failed ones included, as all-zero alpha)."""
    summary: dict[str, float | None] = {}
    for key in (*METRICS, "seconds"):
        values = [getattr(r, key) for r in rows]
        summary[key] = None if None in values else float(np.mean(values))
    return summary


def table(rows: list[Row], summary: dict[str, float | None], *, title: str) -> str:
    """A plain-text table: one row per image, then the mean."""
    header = f"{'image':<8}" + "".join(f"{k:>9}" for k in (*METRICS, "seconds"))
    lines = [title, header, "-" * len(header)]

    def cells(values: list[float | None]) -> str:
        return "".join(f"{'-':>9}" if v is None or math.isnan(v) else f"{v:>9.4f}"
                       for v in values)

    for r in rows:
        values = [getattr(r, k) for k in (*METRICS, "seconds")]
        lines.append(f"{r.stem:<8}{cells(values)}" + (f"  {r.note}" if r.note else ""))
    lines.append("-" * len(header))
    lines.append(f"{'mean':<8}{cells([summary[k] for k in (*METRICS, 'seconds')])}")
    failed = sum(bool(r.note) for r in rows)
    if failed:
        lines.append(f"{failed} of {len(rows)} images counted as all-zero alpha (see notes)")
    return "\n".join(lines)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
