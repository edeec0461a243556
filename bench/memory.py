"""Memory of a long stream: peak RSS over many 24 MP photos, and whether it stays flat.

    python bench/memory.py [--count 1000] [--profile bench/profiles/square-jpeg.yaml] [--jobs 0]
    python bench/memory.py --daemon [--count 1000]

By default ``studiocut process`` takes the photos as one batch; with ``--daemon``,
``studiocut run`` (review page on, as a studio runs it) finds them in its watched folder as
one backlog, on a profile like bench/profiles/square-jpeg.yaml (u2netp, 2000 px white square
JPEG). The photos are the throughput benchmark's synthetic 6000 x 4000 JPEGs, linked --count
times (hard links: studiocut never follows symbolic links).

The peak is the kernel's high-water mark of the process's RSS (VmHWM, which no sampling
misses); "flat" compares the RSS after the first tenth of the photos with the RSS at the end,
and the peak then with the peak at the end. Targets (issue 6): peak at most 600 MB for u2netp;
growth at most 10 %.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from latency import bench_daemon
from throughput import GENERATOR_VERSION, ensure_photos


@dataclass
class Sample:
    done: int  # photos finished
    rss: float  # MB now
    peak: float  # MB, high-water mark so far


def memory_mb(pid: int) -> tuple[float, float] | None:
    """(VmRSS, VmHWM) of a process in MB, or None once it is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    found = {k: int(v.split()[0]) / 1024 for k, v in (line.split(":", 1) for line in lines)
             if k in ("VmRSS", "VmHWM")}
    return found["VmRSS"], found["VmHWM"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--profile", default=str(Path(__file__).parent / "profiles" /
                                                  "square-jpeg.yaml"),
                        help="for process (default: bench/profiles/square-jpeg.yaml, u2netp to "
                        "a 2000 px white-square JPEG; `default` is the built-in model: auto)")
    parser.add_argument("--jobs", type=int, default=0, help="workers (0: one a core)")
    parser.add_argument("--daemon", action="store_true", help="run the daemon on a backlog")
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
    started = time.monotonic()
    if args.daemon:
        samples, code = run_daemon(photos, args.count, stream, out, args.jobs)
        what = "studiocut run (review page on)"
    else:
        samples, code = run_process(photos, args.count, stream, out, args.profile, args.jobs)
        what = f"studiocut process, profile {args.profile}"
    seconds = time.monotonic() - started
    if not samples:
        print("error: no samples", file=sys.stderr)
        return 1
    tenth = next(s for s in samples if s.done >= max(1, args.count // 10))
    end = samples[-1]
    growth = (end.rss - tenth.rss) / tenth.rss
    peak_growth = (end.peak - tenth.peak) / tenth.peak
    print(f"{args.count} x 6000x4000 JPEG, {what}: {end.done} done in {seconds:.0f} s "
          f"({end.done / seconds:.2f} images/s, start-up included); exit {code}")
    print(f"  peak RSS {end.peak:.0f} MB (after {tenth.done} photos {tenth.peak:.0f} MB, "
          f"{peak_growth:+.1%}); RSS after {tenth.done} photos {tenth.rss:.0f} MB, at the end "
          f"{end.rss:.0f} MB ({growth:+.1%})")
    flat = growth <= 0.10 and peak_growth <= 0.10
    print(f"  targets: peak <= 600 MB: {'met' if end.peak <= 600 else 'NOT met'}; growth <= "
          f"10 %: {'met' if flat else 'NOT met'}")
    return 0 if code == 0 and end.done == args.count else 1


def link_photos(photos: list[Path], count: int, folder: Path) -> None:
    for i in range(count):
        os.link(photos[i % len(photos)], folder / f"shot{i:05d}.jpg")  # not symlinks: refused


def run_process(photos: list[Path], count: int, stream: Path, out: Path, profile: str,
                jobs: int) -> tuple[list[Sample], int]:
    link_photos(photos, count, stream)
    command = [sys.executable, "-m", "studiocut", "process", "--profile", profile,
               "--out", str(out), "--json"]
    if jobs:
        command += ["--jobs", str(jobs)]
    files = sorted(str(p) for p in stream.iterdir())
    child = subprocess.Popen([*command, *files], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    samples: list[Sample] = []
    assert child.stdout is not None
    for done, _line in enumerate(child.stdout, start=1):  # one JSON line a photo
        found = memory_mb(child.pid)
        if found is not None:
            samples.append(Sample(done, *found))
    _, status, usage = os.wait4(child.pid, 0)
    if samples:  # the high-water mark of the whole run, exit included
        samples[-1].peak = max(samples[-1].peak, usage.ru_maxrss / 1024)
    return samples, os.waitstatus_to_exitcode(status)


def run_daemon(photos: list[Path], count: int, inbox: Path, out: Path,
               jobs: int) -> tuple[list[Sample], int]:
    options = ("--review-port", "0") + (("--workers", str(jobs)) if jobs else ())
    samples: list[Sample] = []
    with (tempfile.TemporaryDirectory(prefix="studiocut-memory-") as tmp,
          bench_daemon(Path(tmp), inbox, out, options=options) as daemon):
        link_photos(photos, count, inbox)
        done = 0
        while done < count and daemon.poll() is None:
            time.sleep(0.25)
            done = sum(1 for _ in out.iterdir())
            found = memory_mb(daemon.pid)
            if found is not None:
                samples.append(Sample(done, *found))
    code = daemon.returncode
    return samples, code


if __name__ == "__main__":
    raise SystemExit(main())
