"""Throughput of ``studiocut process`` against bare model inference (on demand, not in CI).

Measures, in one run on the same machine:

1. bare inference: ONNX Runtime running the embedded u2netp on one preprocessed 1x3x320x320
   tensor, with the session options studiocut uses, in the two layouts that fit the cores:
   one session with intra-op threads = cores, called sequentially (what ``studiocut`` does:
   one inference at a time on every core, the workers decoding and encoding meanwhile); and
   one session with one intra-op thread called concurrently from one thread per core. The
   better of the two is the baseline.
2. ``python -m studiocut process --profile P --out DIR FILES`` as a subprocess on N synthetic
   6000 x 4000 product photos (JPEG, about 6-7 MB each: a textured subject with soft edges and
   a contact shadow on a light seamless backdrop with a gradient and sensor noise), generated
   once into ``--workdir`` and reused by later runs.

images/s of ``process`` is N over its wall time less its start-up. Start-up (interpreter,
imports, profile, model load: everything ``process`` does before its first photo) is measured
separately, as the median wall time of 3 subprocesses that do exactly that and exit. Peak RSS
is the child's own high-water mark (VmHWM, read every 20 ms while it runs): ``ru_maxrss`` of a
child would do only if it were not started by vfork, which hands it the benchmark's own peak
(its ONNX Runtime arenas) until exec. Bare inference is measured before and after the run and
averaged.

Wall-clock rates move with whatever else runs on the machine, so the report also gives figures
that move much less: the CPU-seconds an image of ``process`` (user and system, start-up
excluded; system time is mostly page faults) and of inference, the rate that CPU cost allows
on all cores, and the CPU other processes used during each measurement (from /proc/stat).
``--stages`` adds the wall and CPU milliseconds of each stage of ``pipeline.process`` on a
few photos, in this process, one photo at a time, with the model threads the CLI would use
(stages that call OpenCV may use more threads than the CPU column shows).

Run from the repository root::

    python bench/throughput.py                   # 20 photos, built-in default profile
    python bench/throughput.py --png             # transparent 2000 px square PNG profile
    python bench/throughput.py --count 5 --size 3000x2000 --profile my.yaml --stages

No figure here is asserted: timings depend on the machine and are read by people.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from studiocut import atomic, profiles
from studiocut.errors import StudiocutError
from studiocut.imaging import composite, decode, encode, frame, matte, pipeline
from studiocut.models import predict, registry
from studiocut.models.saliency import OnnxSaliencyModel

BENCH = Path(__file__).resolve().parent
SQUARE_PNG = BENCH / "profiles" / "square-png.yaml"
GENERATOR_VERSION = 1  # bump when the synthetic photos change, so caches are not reused
JPEG_QUALITY = 95


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    size = _size(args.size)
    profile_arg = str(SQUARE_PNG) if args.png else args.profile
    try:
        profile = profiles.resolve(profile_arg, None)
    except StudiocutError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.count < 1:
        print("error: --count must be at least 1", file=sys.stderr)
        return 2
    cores = os.cpu_count() or 1
    workdir = args.workdir.expanduser().absolute()

    photos = ensure_photos(workdir / f"photos-{size[0]}x{size[1]}-v{GENERATOR_VERSION}",
                           args.count, size)
    megabytes = statistics.mean(p.stat().st_size for p in photos) / 1e6
    for photo in photos:  # the same page-cache state for every stage: all in memory
        photo.read_bytes()

    runs = max(20, args.count)
    with OtherLoad() as load_before:
        bare_before = bare_inference(photos[0], profile.model, cores=cores, runs=runs)
    out = workdir / f"out-{profile.name}"
    with OtherLoad() as load_run:
        run = run_process(profile_arg, photos, out, jobs=args.jobs)
    peak_rss_mb = run.peak_mb
    with OtherLoad() as load_after:
        bare_after = bare_inference(photos[0], profile.model, cores=cores, runs=runs)
    startup = measure_startup(profile_arg, jobs=args.jobs or min(cores, len(photos)), cores=cores)

    net = run.wall - startup.wall
    rate = len(photos) / net
    bare = {k: (bare_before[k].per_second + bare_after[k].per_second) / 2 for k in bare_before}
    best = max(bare.values())
    workload = (f"{len(photos)} x {size[0]}x{size[1]} JPEG ({megabytes:.1f} MB avg) -> "
                f"{profile.name} ({_describe(profile)})")
    print()
    print(f"bare {profile.model} inference, {cores} cores, {runs} runs each, images/s (CPU-s an "
          "image) before / after the process run; the baseline is the better layout's mean:")
    for k in bare:
        print(f"  {k:<50} {bare_before[k].per_second:5.2f} ({bare_before[k].cpu:.3f}) / "
              f"{bare_after[k].per_second:5.2f} ({bare_after[k].cpu:.3f})")
    n = len(photos)
    user = (run.user - startup.cpu) / n  # start-up CPU is nearly all user time
    print(f"studiocut process: wall {run.wall:.2f} s, start-up {startup.wall:.2f} s (measured "
          f"separately), net {net:.2f} s; {run.failed} failed; rate including start-up "
          f"{n / run.wall:.2f} images/s")
    print(f"  CPU an image after start-up: {user:.3f} s user + {run.system / n:.3f} s system; "
          f"{run.faults / n:,.0f} minor page faults an image")
    inference_cpu = min(r.cpu for r in (*bare_before.values(), *bare_after.values()))
    print(f"  CPU-bound ceiling: {cores} cores / {user + run.system / n:.3f} CPU-s = "
          f"{cores / (user + run.system / n):.2f} images/s; inference alone is "
          f"{inference_cpu:.3f} CPU-s an image, "
          f"{inference_cpu / (user + run.system / n):.0%} of the CPU spent")
    loads = [x for x in (load_before.cores, load_run.cores, load_after.cores) if x is not None]
    if len(loads) == 3:
        print("  CPU used by other processes meanwhile, in cores: bare before {:.2f}, process "
              "{:.2f}, bare after {:.2f}".format(*loads))
        if max(loads) > 0.2 * cores:
            print("  warning: the machine was busy with other work; wall-clock figures are "
                  "not reliable (CPU-s figures less affected)")
    print()
    header = ("workload", "studiocut images/s", "bare-inference images/s", "ratio",
              "peak RSS (MB)")
    row = (workload, f"{rate:.2f}", f"{best:.2f}", f"{rate / best:.2f}", f"{peak_rss_mb:.0f}")
    widths = [max(len(h), len(c)) for h, c in zip(header, row, strict=True)]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    if args.rembg is not None:
        seconds, rss = run_rembg(args.rembg, photos, workdir / "out-rembg")
        per_second = len(photos) / seconds
        print(f"rembg p -m u2netp: {seconds:.1f} s for {len(photos)} photos = "
              f"{per_second:.3f} images/s, peak RSS {rss:.0f} MB; studiocut is "
              f"{rate / per_second:.1f} x faster")
    if args.stages:
        print()
        print(stage_table(photos[: min(len(photos), 4)], profile, workdir / "out-stages",
                          threads=max(1, cores // (args.jobs or min(cores, len(photos))))))
    return 1 if run.failed else 0


def run_rembg(venv: Path, photos: list[Path], out: Path) -> tuple[float, float]:
    """Time ``rembg p -m u2netp`` (installed in its own virtual environment ``venv``) on the
    same photos, offline, with the same u2netp weights in its model folder; return (wall
    seconds, peak RSS in MB of that process alone)."""
    from studiocut.models import predict, registry

    home = out.with_name(out.name + "-u2net-home")
    source = out.with_name(out.name + "-in")
    for folder in (out, home, source):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    shutil.copyfile(predict.weights_path(registry.MODELS["u2netp"]), home / "u2netp.onnx")
    for photo in photos:
        os.symlink(photo, source / photo.name)
    env = dict(os.environ, U2NET_HOME=str(home))
    started = time.perf_counter()
    child = subprocess.Popen([str(venv / "bin" / "rembg"), "p", "-m", "u2netp", str(source),
                              str(out)], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    with PeakRss(child.pid) as peak:
        child.wait()
    wall = time.perf_counter() - started
    if child.returncode != 0 or len(list(out.iterdir())) != len(photos):
        raise SystemExit(f"error: rembg exited {child.returncode} with "
                         f"{len(list(out.iterdir()))} of {len(photos)} outputs")
    return wall, peak.mb


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20, metavar="N",
                        help="synthetic photos to process (default: 20)")
    parser.add_argument("--size", default="6000x4000", metavar="WxH",
                        help="their pixel size (default: 6000x4000)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--profile", default="default", metavar="P",
                       help="profile name or .yaml path (default: the built-in default, a "
                       "2000 px white-square JPEG)")
    which.add_argument("--png", action="store_true",
                       help=f"use {SQUARE_PNG.relative_to(BENCH.parent)} (transparent 2000 px "
                       "square PNG)")
    parser.add_argument("--jobs", type=int, default=0, metavar="N",
                        help="passed to studiocut process (default: its own, one per core)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/studiocut-bench"),
                        metavar="DIR", help="photos (cached) and outputs (default: %(default)s)")
    parser.add_argument("--rembg", type=Path, default=None, metavar="VENV",
                        help="also time `rembg p -m u2netp` from this virtual environment "
                        "(python -m venv V && V/bin/pip install 'rembg[cpu,cli]')")
    parser.add_argument("--stages", action="store_true",
                        help="also time each pipeline stage on a few photos, in-process")
    return parser


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"error: --size {text!r}: expected WxH, e.g. 6000x4000") from None
    if w < 64 or h < 64:
        raise SystemExit(f"error: --size {text!r}: at least 64x64")
    return w, h


def _describe(profile: profiles.Profile) -> str:
    backdrop = "transparent"
    if profile.backdrop is not None:
        backdrop = "#{:02x}{:02x}{:02x}".format(*profile.backdrop)
    square = f"{profile.square.size} px square" if profile.square else "input size"
    return f"{square} {profile.encoding.format.upper()}, {backdrop}"


# --------------------------------------------------------------------------- synthetic photos


def ensure_photos(folder: Path, count: int, size: tuple[int, int]) -> list[Path]:
    """Return ``count`` synthetic photos in ``folder``, generating those not there yet."""
    folder.mkdir(parents=True, exist_ok=True)
    photos = []
    for i in range(count):
        path = folder / f"product-{i:03d}.jpg"
        if not path.is_file():
            started = time.perf_counter()
            buffer = io.BytesIO()
            exif = Image.Exif()
            exif[0x010F], exif[0x0110], exif[0x0112] = "studiocut-bench", "synthetic", 1
            Image.fromarray(synthetic_photo(i, size)).save(
                buffer, "JPEG", quality=JPEG_QUALITY, exif=exif.tobytes())
            temp = path.with_suffix(".tmp")
            temp.write_bytes(buffer.getvalue())
            temp.replace(path)  # a run stopped half-way leaves no half-written photo behind
            print(f"generated {path} ({path.stat().st_size / 1e6:.1f} MB, "
                  f"{time.perf_counter() - started:.1f} s)", file=sys.stderr)
        photos.append(path)
    return photos


def synthetic_photo(seed: int, size: tuple[int, int]) -> np.ndarray:
    """Return an H x W x 3 uint8 product shot: a textured, shaded subject (ellipse, box,
    bottle or fuzzy plush-like blob, by ``seed``) with soft edges and a contact shadow on a
    light seamless backdrop with a sweep gradient, side fall-off and sensor noise."""
    w, h = size
    rng = np.random.default_rng(1000 + seed)
    kind = seed % 4
    base, tint = rng.uniform(222, 242), rng.uniform(-4, 4, 3).astype(np.float32)
    cx, cy = w * rng.uniform(0.4, 0.6), h * rng.uniform(0.45, 0.55)
    r = min(w, h) * rng.uniform(0.25, 0.36)
    soft = rng.uniform(1.5, 6.0) * min(w, h) / 4000  # edge ramp half-width, px
    colour = rng.uniform(30, 200, 3).astype(np.float32)
    angle, freq = rng.uniform(0, np.pi), rng.uniform(0.02, 0.12)
    phase = rng.uniform(0, 2 * np.pi, 2)
    noise = rng.uniform(3.5, 4.5)
    low = cv2.resize(rng.standard_normal((16, 24)).astype(np.float32), (w, h),
                     interpolation=cv2.INTER_CUBIC)
    mid = cv2.resize(rng.standard_normal((max(2, h // 20), max(2, w // 20))).astype(np.float32),
                     (w, h), interpolation=cv2.INTER_LINEAR)
    out = np.empty((h, w, 3), np.uint8)
    for y0 in range(0, h, 256):  # in bands, to keep memory small
        y1 = min(h, y0 + 256)
        y, x = np.meshgrid(np.arange(y0, y1, dtype=np.float32), np.arange(w, dtype=np.float32),
                           indexing="ij")
        dx, dy = x - cx, y - cy
        t = y / h
        backdrop = base - 14 * (1 - t) ** 2 + 6 * t - 10 * (dx / w) ** 2
        backdrop *= 1 - 0.3 * np.exp(-((dx / (0.9 * r)) ** 2 + ((y - cy - r) / (0.08 * r)) ** 2))
        if kind == 0:
            sd = (np.hypot(dx / (0.7 * r), dy / r) - 1) * 0.7 * r
        elif kind == 1:
            sd = _rounded_box(dx, dy, 0.9 * r, 0.8 * r, 0.12 * r)
        elif kind == 2:
            sd = np.minimum(_rounded_box(dx, dy - 0.25 * r, 0.45 * r, 0.75 * r, 0.2 * r),
                            _rounded_box(dx, dy + 0.75 * r, 0.15 * r, 0.3 * r, 0.05 * r))
        else:
            theta = np.arctan2(dy, dx)
            radius = r * (0.85 + 0.08 * np.sin(3 * theta + phase[0])
                          + 0.05 * np.sin(7 * theta + phase[1]))
            sd = np.hypot(dx, dy) - radius + 4 * soft * mid[y0:y1]  # fuzzy, uneven edge
        alpha = np.clip(0.5 - sd / (2 * soft), 0, 1)[..., np.newaxis]
        shade = 0.7 + 0.3 * np.sqrt(np.clip(-sd / (0.4 * r), 0, 1)) - 0.15 * (dx + dy) / (2 * r)
        weave = 10 * np.sin(freq * (x * np.cos(angle) + y * np.sin(angle)))
        subject = colour * shade[..., np.newaxis] + (
            weave + 12 * low[y0:y1] + 8 * mid[y0:y1])[..., np.newaxis]
        pixels = subject * alpha + (backdrop[..., np.newaxis] + tint) * (1 - alpha)
        pixels += rng.standard_normal(pixels.shape, dtype=np.float32) * noise
        out[y0:y1] = np.clip(pixels + 0.5, 0, 255)
    return out


def _rounded_box(x: np.ndarray, y: np.ndarray, half_w: float, half_h: float,
                 radius: float) -> np.ndarray:
    """Signed distance to a box with rounded corners centred on the origin."""
    qx, qy = np.abs(x) - (half_w - radius), np.abs(y) - (half_h - radius)
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
    return outside + np.minimum(np.maximum(qx, qy), 0) - radius


# --------------------------------------------------------------------------- machine load


class OtherLoad:
    """Measures, over a ``with`` block, the CPU that processes other than this one and its
    children used, in cores (``cores``; None where /proc/stat is missing). A benchmark
    sharing its cores with other work measures that work too."""

    def __init__(self) -> None:
        self.cores: float | None = None

    def __enter__(self) -> OtherLoad:
        self._start = (_machine_busy(), _own_cpu(), time.perf_counter())
        return self

    def __exit__(self, *exc: object) -> None:
        busy0, own0, wall0 = self._start
        busy1, own1, wall1 = _machine_busy(), _own_cpu(), time.perf_counter()
        if busy0 is not None and busy1 is not None:
            self.cores = max(0.0, (busy1 - busy0) - (own1 - own0)) / (wall1 - wall0)


def _machine_busy() -> float | None:
    """CPU-seconds the whole machine has been busy since boot (all but idle and iowait)."""
    try:
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    """CPU-seconds used by this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


# --------------------------------------------------------------------------- bare inference


def _session(path: Path, threads: int) -> Any:
    """An ONNX Runtime session with exactly studiocut's options for the CPU provider."""
    import onnxruntime as ort

    from studiocut.models.providers import CPU, session_options

    return ort.InferenceSession(str(path), session_options([CPU], threads), providers=[CPU])


@dataclass(frozen=True)
class Rate:
    """Images per second, and CPU-seconds (user + system, all threads) per image."""

    per_second: float
    cpu: float


def bare_inference(photo: Path, model: str, *, cores: int, runs: int) -> dict[str, Rate]:
    """Return the rate of ``model`` on ``photo``'s preprocessed tensor, by thread layout."""
    spec = registry.MODELS[model]
    path = predict.weights_path(spec)
    rgb = decode.open_source(photo, profiles.Limits()).load(spec.input_size).rgb  # as cut() does
    rates = {}

    session = _session(path, cores)
    feed = {session.get_inputs()[0].name: OnnxSaliencyModel(spec, session).preprocess(rgb)}
    for _ in range(3):
        session.run(None, feed)
    with _Stopwatch() as clock:
        for _ in range(runs):
            session.run(None, feed)
    rates[f"1 session x {cores} intra-op threads, sequential"] = clock.rate(runs)

    session = _session(path, 1)

    def work(n: int) -> None:
        for _ in range(n):
            session.run(None, feed)

    work(3)
    shares = [runs // cores + (1 if i < runs % cores else 0) for i in range(cores)]
    threads = [threading.Thread(target=work, args=(n,)) for n in shares]
    with _Stopwatch() as clock:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    rates[f"1 session x 1 intra-op thread, {cores} threads calling"] = clock.rate(runs)
    return rates


class _Stopwatch:
    """Wall and CPU seconds of this process over a ``with`` block."""

    def __enter__(self) -> _Stopwatch:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu

    def rate(self, images: int) -> Rate:
        return Rate(images / self.wall, self.cpu / images)


# --------------------------------------------------------------------------- studiocut process


@dataclass(frozen=True)
class ProcessRun:
    """One ``studiocut process`` run: wall seconds, failed photos, the child's CPU seconds
    (user, system), minor page faults and peak RSS."""

    wall: float
    failed: int
    user: float
    system: float
    faults: int
    peak_mb: float


def run_process(profile: str, photos: list[Path], out: Path, *, jobs: int) -> ProcessRun:
    """Run ``studiocut process`` on ``photos`` into a fresh ``out``; return what it cost."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    command = [sys.executable, "-m", "studiocut", "process", "--profile", profile,
               "--out", str(out), "--json"]
    if jobs:
        command += ["--jobs", str(jobs)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = subprocess.Popen([*command, *map(str, photos)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    with PeakRss(child.pid) as peak:
        stdout, stderr = child.communicate()
    done = subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    failed = sum('"ok": false' in line for line in done.stdout.splitlines())
    if done.returncode not in (0, 1) or failed:
        print(done.stdout + done.stderr, file=sys.stderr)
    if done.returncode not in (0, 1):
        raise SystemExit(f"error: studiocut process exited {done.returncode}")
    return ProcessRun(wall, failed, after.ru_utime - before.ru_utime,
                      after.ru_stime - before.ru_stime, after.ru_minflt - before.ru_minflt,
                      peak.mb)


class PeakRss:
    """The highest VmHWM of a running process, read every 20 ms by a thread (VmHWM is the
    kernel's high-water mark, so the only peaks missed are those of its last 20 ms)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        path = Path(f"/proc/{self.pid}/status")
        while not self._stop.wait(0.02):
            try:
                for line in path.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        self.mb = max(self.mb, int(line.split()[1]) / 1024)
            except (OSError, ValueError):
                return

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass(frozen=True)
class Startup:
    """Median wall and CPU seconds of start-up."""

    wall: float
    cpu: float


STARTUP_PROBE = """
import sys
from studiocut import cli
from studiocut.imaging import pipeline
from studiocut.models import predict
from studiocut import profiles as profile
p = profile.resolve(sys.argv[1], None)
predict.load(p.model, threads=int(sys.argv[2]))
"""


def measure_startup(profile: str, *, jobs: int, cores: int) -> Startup:
    """Median wall and CPU time of a subprocess that imports what ``process`` imports,
    resolves the profile and loads the model with the same threads, then exits."""
    threads = str(max(1, cores // max(1, jobs)))
    walls, cpus = [], []
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", STARTUP_PROBE, profile, threads], check=True)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return Startup(statistics.median(walls), statistics.median(cpus))


# --------------------------------------------------------------------------- stages


class StageClock:
    """Wall and thread-CPU seconds per named stage, recorded by wrappers around the functions
    ``pipeline.process`` calls."""

    def __init__(self) -> None:
        self.wall: dict[str, list[float]] = defaultdict(list)
        self.cpu: dict[str, list[float]] = defaultdict(list)

    def wrap(self, name: str | Callable[..., str], fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            label = name if isinstance(name, str) else name(*args, **kwargs)
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.wall[label].append(time.perf_counter() - wall)
                self.cpu[label].append(time.thread_time() - cpu)

        return timed


@contextmanager
def _patched(targets: list[tuple[Any, str, Any]]) -> Iterator[None]:
    saved = [(obj, attr, getattr(obj, attr)) for obj, attr, _ in targets]
    try:
        for obj, attr, value in targets:
            setattr(obj, attr, value)
        yield
    finally:
        for obj, attr, value in saved:
            setattr(obj, attr, value)


def stage_table(photos: list[Path], profile: profiles.Profile, out: Path, *,
                threads: int) -> str:
    """Run ``pipeline.process`` on ``photos`` (after one untimed warm-up) with each stage
    timed; return a table of the mean wall and thread-CPU milliseconds per stage."""
    model = predict.load(profile.model, threads=threads)
    clock = StageClock()
    w = clock.wrap

    def load_label(source: decode.Source, at_least: Any = None, **kwargs: Any) -> str:
        return "decode preview" if at_least == model.input_size else "decode for output"

    stages = [
        (decode, "open_source", w("read file + header", decode.open_source)),
        (decode.Source, "load", w(load_label, decode.Source.load)),
        (model, "preprocess", w("predict: resize + normalise", model.preprocess)),
        (model, "_session", _TimedSession(model._session, clock)),  # type: ignore[attr-defined]
        (model, "postprocess", w("predict: postprocess", model.postprocess)),
        (frame, "locate", w("frame: locate", frame.locate)),
        (matte, "upsample", w("matte: upsample", matte.upsample)),
        (matte, "refine", w("matte: refine", matte.refine)),
        (frame, "layout", w("frame: layout", frame.layout)),
        (frame, "fit", w("frame: fit (crop + resize)", frame.fit)),
        (composite, "over", w("composite: over", composite.over)),
        (composite, "canvas", w("composite: canvas", composite.canvas)),
        (frame, "place", w("frame: place", frame.place)),
        (encode, "encode", w("encode", encode.encode)),
        (encode, "write_atomic", w("write (fsync, rename)", atomic.write_atomic)),
    ]
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    pipeline.process(photos[0], model, profile, output_root=out)  # warm-up, untimed
    totals = []
    with _patched(stages):
        for photo in photos:
            started = time.perf_counter()
            pipeline.process(photo, model, profile, output_root=out)
            totals.append(time.perf_counter() - started)
    lines = [f"stages of pipeline.process, {len(photos)} photos, model threads {threads}, "
             "means (ms):", f"  {'stage':<30}{'wall':>9}{'cpu':>9}"]
    accounted = 0.0
    for label in clock.wall:
        wall, cpu = statistics.mean(clock.wall[label]), statistics.mean(clock.cpu[label])
        accounted += wall
        lines.append(f"  {label:<30}{wall * 1e3:9.1f}{cpu * 1e3:9.1f}")
    total = statistics.mean(totals)
    lines.append(f"  {'(rest: naming, slicing, ...)':<30}{(total - accounted) * 1e3:9.1f}")
    lines.append(f"  {'total':<30}{total * 1e3:9.1f}")
    return "\n".join(lines)


class _TimedSession:
    """Stands in for the model's ONNX Runtime session and times its ``run``."""

    def __init__(self, session: Any, clock: StageClock) -> None:
        self._session = session
        self.run = clock.wrap("predict: inference", session.run)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


if __name__ == "__main__":
    sys.exit(main())
