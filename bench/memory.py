"""Memory of a long stream: peak RSS of ``studiocut process`` over many 24 MP photos, and
whether it stays flat (the RSS after the first tenth against the RSS at the end).

    python bench/memory.py [--count 1000] [--profile default] [--jobs 0]

The photos are the throughput benchmark's synthetic 6000 x 4000 JPEGs, linked --count times
into one folder (hard links: studiocut never follows symbolic links). Targets (issue 6): peak
at most 600 MB for u2netp; growth at most 10 %.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from throughput import GENERATOR_VERSION, ensure_photos


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--profile", default="default")
    parser.add_argument("--jobs", type=int, default=0)
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "studiocut-bench")
    args = parser.parse_args()
    photos = ensure_photos(args.workdir / f"photos-6000x4000-v{GENERATOR_VERSION}", 20,
                           (6000, 4000))
    stream = args.workdir / "memory-stream"
    out = args.workdir / "memory-out"
    for folder in (stream, out):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    for i in range(args.count):
        os.link(photos[i % len(photos)], stream / f"shot{i:05d}.jpg")  # not symlinks: refused
    command = [sys.executable, "-m", "studiocut", "process", "--profile", args.profile,
               "--out", str(out), "--json"]
    if args.jobs:
        command += ["--jobs", str(args.jobs)]
    files = sorted(str(p) for p in stream.iterdir())
    child = subprocess.Popen([*command, *files], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    samples: list[tuple[int, float]] = []  # (photos done, RSS MB)
    assert child.stdout is not None
    for done, _line in enumerate(child.stdout, start=1):
        value = rss_mb(child.pid)
        if value is not None:
            samples.append((done, value))
    child.wait()
    if not samples:
        print("error: no samples", file=sys.stderr)
        return 1
    peak = max(v for _, v in samples)
    tenth = next(v for n, v in samples if n >= max(1, args.count // 10))
    end = samples[-1][1]
    growth = (end - tenth) / tenth
    print(f"{args.count} x 6000x4000 JPEG, profile {args.profile}: peak RSS {peak:.0f} MB; "
          f"after {args.count // 10} photos {tenth:.0f} MB, at the end {end:.0f} MB "
          f"({growth:+.1%}); exit {child.returncode}")
    print(f"  targets: peak <= 600 MB: {'met' if peak <= 600 else 'NOT met'}; growth <= 10 %: "
          f"{'met' if growth <= 0.10 else 'NOT met'}")
    return 0 if child.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
