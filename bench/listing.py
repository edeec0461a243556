"""The cost of the listing checks of issue 19, per photo, in this process (on demand, not in CI).

1. ``barcode.read_card`` on a camera photo's preview (750 px long side): a photo with no code
   (every product photo pays this), a printed box with a barcode label (read, then refused by
   the texture rule), and a barcode card (read and accepted).
2. ``compliance.check`` on a rendition encoded by studiocut: the Amazon preset's 2000 x 2000
   JPEG at quality 95 with a noisy subject (the slowest JPEG to decode), and the same preset
   with the decode left out (``white`` off), which is the cost of the rest.

    python bench/listing.py [--repeat 50]

Medians of ``--repeat`` calls, in milliseconds, after one warm-up call. The machine is shared
and noisy; compare figures of one run only.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import zxingcpp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import barcode_scenes as scenes
from studiocut.imaging import barcode, compliance, composite, decode, encode
from studiocut.profiles import presets


def median_ms(call: Callable[[], object], repeat: int) -> float:
    call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def rendition(size: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[:size, :size].astype(np.float32)
    inside = ((yy - size / 2) / (0.45 * size)) ** 2 + ((xx - size / 2) / (0.3 * size)) ** 2
    alpha = np.clip((1 - inside) * 100, 0, 1).astype(np.float32)
    texture = np.random.default_rng(0).integers(0, 200, (size, size, 3), dtype=np.uint8)
    return composite.over(texture, alpha, (255, 255, 255)), alpha


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    ean = scenes.code("4006381333931", zxingcpp.BarcodeFormat.EAN13)
    photos = {
        "no code": scenes.preview(scenes.product()),
        "box with a barcode": scenes.preview(scenes.product(barcode=scenes.code(
            "4006381333931", zxingcpp.BarcodeFormat.EAN13, 2))),
        "barcode card": scenes.preview(scenes.card([ean])),
    }
    for name, photo in photos.items():
        found = barcode.read_card(photo)
        ms = median_ms(functools.partial(barcode.read_card, photo), args.repeat)
        print(f"read_card, {name} ({photo.shape[1]} x {photo.shape[0]}): {ms:.2f} ms "
              f"-> {found!r}")

    amazon = presets.get("amazon")
    image, alpha = rendition(amazon.canvas[0])
    data = encode.encode(image, amazon.encoding(), icc=decode.srgb_icc(), metadata=None)
    no_white = dataclasses.replace(amazon, white=False)
    for name, preset in (("amazon", amazon), ("amazon without the white check", no_white)):
        reasons = compliance.check(data, preset, subject=alpha)
        ms = median_ms(functools.partial(compliance.check, data, preset, subject=alpha),
                       args.repeat)
        print(f"compliance.check, {name} ({len(data) / 1e6:.1f} MB JPEG, "
              f"{amazon.canvas[0]} px): {ms:.2f} ms -> {reasons!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
