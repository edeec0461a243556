"""Throughput of ``studiocut process`` against a baseline measured in the same run (on
demand, not in CI).

Measures, in one run on the same machine:

1. the baseline. With a real model: bare inference, ONNX Runtime running the model (u2netp
   for ``auto``) on one preprocessed 1x3x320x320 tensor with studiocut's session options, in
   the two layouts that fit the cores (one session with intra-op threads = cores, called
   sequentially; one session with one intra-op thread called from one thread per core); the
   better is the baseline. With ``--free`` (a free model, ``free_model.py``: the pipeline's
   own rate, what a station with a fast GPU sees): the floor, what any pipeline must do to a
   photo (decode the JPEG at full size, resize to the output's size, encode it), one thread
   per core.
2. ``python -m studiocut process --profile P --out DIR FILES`` as a subprocess on N synthetic
   6000 x 4000 product photos (JPEG, about 6-7 MB each: a textured subject with soft edges and
   a contact shadow on a light seamless backdrop with a gradient and sensor noise), generated
   once into ``--workdir`` and reused by later runs.
3. the stages of one photo (``stages.py``): the CPU milliseconds of decode, preview, model,
   matte, framing, decontamination, composite, encode, write and journal.

images/s of ``process`` is N over its wall time less its start-up. Start-up (interpreter,
imports, profile, model load: everything ``process`` does before its first photo) is measured
separately, as the median wall time of 3 subprocesses that do exactly that and exit. Peak RSS
is the child's own high-water mark (VmHWM, read every 20 ms while it runs). The baseline is
measured before and after the run and averaged.

Wall-clock rates move with whatever else runs on the machine, so the report also gives figures
that move much less: the CPU-seconds an image of ``process`` (user and system, start-up
excluded; system time is mostly page faults) and of the baseline, the rate that CPU cost
allows on all cores, and the CPU other processes used during each measurement (/proc/stat).

Run from the repository root::

    python bench/throughput.py                   # 20 photos, u2netp to a white-square JPEG
    python bench/throughput.py --free            # the same with a free model
    python bench/throughput.py --png --free      # transparent 2000 px square PNG profile
    python bench/throughput.py --free --free-size 1024   # as a 1024 px network's station
    python bench/throughput.py --count 5 --size 3000x2000 --profile my.yaml
    python bench/throughput.py --renditions 3    # what each rendition beyond one costs

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import simplejpeg
from PIL import Image

import free_model
import renditions
import stages
from studiocut import profiles
from studiocut.errors import StudiocutError
from studiocut.imaging import decode, encode
from studiocut.models import predict, registry
from studiocut.models.saliency import OnnxSaliencyModel

BENCH = Path(__file__).resolve().parent
SQUARE_PNG = BENCH / "profiles" / "square-png.yaml"
SQUARE_JPEG = BENCH / "profiles" / "square-jpeg.yaml"
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
    if not 32 <= args.free_size <= 4096:
        print("error: --free-size must be 32 to 4096 pixels", file=sys.stderr)
        return 2
    cores = os.cpu_count() or 1
    workdir = args.workdir.expanduser().absolute()
    if args.free:
        profile_arg = str(free_model.free_profile(profile, profile_arg, workdir / "free",
                                                  args.free_size))
        profile = profiles.resolve(profile_arg, None)
    many_arg = None
    if args.renditions > 1:  # the profile's first rendition alone, then N of them
        try:
            many_arg = str(renditions.write(profile, profile_arg, args.renditions,
                                            workdir / "renditions"))
            profile_arg = str(renditions.write(profile, profile_arg, 1, workdir / "renditions"))
            profile = profiles.resolve(profile_arg, None)
            profiles.resolve(many_arg, None)
        except (ValueError, StudiocutError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 2

    photos = ensure_photos(workdir / f"photos-{size[0]}x{size[1]}-v{GENERATOR_VERSION}",
                           args.count, size)
    megabytes = statistics.mean(p.stat().st_size for p in photos) / 1e6
    for photo in photos:  # the same page-cache state for every stage: all in memory
        photo.read_bytes()

    def baseline() -> dict[str, Rate]:
        if args.free:
            return floor(photos, profile, cores=cores)
        return bare_inference(photos[0], _network(profile), cores=cores,
                              runs=max(20, args.count))

    with OtherLoad() as load_before:
        base_before = baseline()
    out = workdir / f"out-{profile.name}"
    with OtherLoad() as load_run:
        run = run_process(profile_arg, photos, out, jobs=args.jobs)
    many = None
    if many_arg is not None:
        with OtherLoad() as load_many:
            many = run_process(many_arg, photos, workdir / f"out-{profile.name}-many",
                               jobs=args.jobs)
    with OtherLoad() as load_after:
        base_after = baseline()
    startup = measure_startup(profile_arg, jobs=args.jobs or min(cores, len(photos)), cores=cores)

    net = run.wall - startup.wall
    rate = len(photos) / net
    base = {k: (base_before[k].per_second + base_after[k].per_second) / 2 for k in base_before}
    best = max(base.values())
    workload = (f"{len(photos)} x {size[0]}x{size[1]} JPEG ({megabytes:.1f} MB avg) -> "
                f"{profile.name} ({_describe(profile)})")
    what = ("the floor (decode at full size, resize, encode)" if args.free else
            f"bare {_network(profile)} inference")
    print()
    print(f"{what}, {cores} cores, images/s (CPU-s an image) before / after the process run; "
          "the baseline is the better layout's mean:")
    for k in base:
        print(f"  {k:<50} {base_before[k].per_second:5.2f} ({base_before[k].cpu:.3f}) / "
              f"{base_after[k].per_second:5.2f} ({base_after[k].cpu:.3f})")
    n = len(photos)
    user = (run.user - startup.cpu) / n  # start-up CPU is nearly all user time
    per_photo = user + run.system / n
    print(f"studiocut process: wall {run.wall:.2f} s, start-up {startup.wall:.2f} s (measured "
          f"separately), net {net:.2f} s; {run.failed} failed; rate including start-up "
          f"{n / run.wall:.2f} images/s")
    print(f"  CPU an image after start-up: {user:.3f} s user + {run.system / n:.3f} s system; "
          f"{run.faults / n:,.0f} minor page faults an image")
    base_cpu = min(r.cpu for r in (*base_before.values(), *base_after.values()))
    print(f"  CPU-bound ceiling: {cores} cores / {per_photo:.3f} CPU-s = "
          f"{cores / per_photo:.2f} images/s; the baseline is {base_cpu:.3f} CPU-s an image, "
          f"{base_cpu / per_photo:.0%} of the CPU spent")
    loads = [x for x in (load_before.cores, load_run.cores, load_after.cores) if x is not None]
    if len(loads) == 3:
        print("  CPU used by other processes meanwhile, in cores: baseline before {:.2f}, "
              "process {:.2f}, baseline after {:.2f}".format(*loads))
        if max(loads) > 0.2 * cores:
            print("  warning: the machine was busy with other work; wall-clock figures are "
                  "not reliable (CPU-s figures less affected)")
    print()
    header = ("workload", "studiocut images/s", "baseline images/s", "ratio",
              "CPU-s an image", "peak RSS (MB)")
    row = (workload, f"{rate:.2f}", f"{best:.2f}", f"{rate / best:.2f}", f"{per_photo:.3f}",
           f"{run.peak_mb:.0f}")
    widths = [max(len(h), len(c)) for h, c in zip(header, row, strict=True)]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    if many is not None and many_arg is not None:
        print()
        print(_renditions_report(run, many, args.renditions, startup, n, load_many.cores))
    if args.rembg is not None:
        seconds, rss = run_rembg(args.rembg, photos, workdir / "out-rembg")
        per_second = len(photos) / seconds
        print(f"rembg p -m u2netp: {seconds:.1f} s for {len(photos)} photos = "
              f"{per_second:.3f} images/s, peak RSS {rss:.0f} MB; studiocut is "
              f"{rate / per_second:.1f} x faster")
    if not args.no_stages:
        print()
        print(stages.profile_stages(photos[: min(len(photos), 6)], profile,
                                    workdir / "out-stages"))
    return 1 if run.failed or (many is not None and many.failed) else 0


def _renditions_report(one: ProcessRun, many: ProcessRun, count: int, startup: Startup, n: int,
                       load: float | None) -> str:
    """The cost of the renditions beyond the first: the same photos through the profile's
    first rendition alone and through ``count`` renditions (``renditions.KINDS``)."""
    def cpu(run: ProcessRun) -> float:
        return (run.user - startup.cpu + run.system) / n

    def rate(run: ProcessRun) -> float:
        return n / (run.wall - startup.wall)

    extra = (cpu(many) - cpu(one)) / (count - 1)
    kinds = ", ".join(kind["name"] for kind in renditions.KINDS[:count])
    lines = [f"renditions ({kinds}), one cut-out a photo:",
             f"  {'renditions':<10} {'images/s':>9} {'CPU-s an image':>15} {'peak RSS (MB)':>14}"]
    for label, run in (("1", one), (str(count), many)):
        lines.append(f"  {label:<10} {rate(run):9.2f} {cpu(run):15.3f} {run.peak_mb:14.0f}")
    lines.append(f"  each extra rendition: {extra:+.3f} CPU-s an image, "
                 f"{extra / cpu(one):.0%} of one rendition's photo")
    if load is not None:
        lines.append(f"  CPU used by other processes during the {count}-rendition run: "
                     f"{load:.2f} cores")
    return "\n".join(lines)


def _network(profile: profiles.Profile) -> str:
    """The network the profile runs: ``auto`` runs the embedded u2netp."""
    return "u2netp" if profile.model == "auto" else profile.model


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
    which.add_argument("--profile", default=str(SQUARE_JPEG), metavar="P",
                       help="profile name or .yaml path (default: "
                       f"{SQUARE_JPEG.relative_to(BENCH.parent)}, u2netp to a 2000 px "
                       "white-square JPEG; `default` is the built-in profile, model: auto)")
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
    parser.add_argument("--free", action="store_true",
                        help="run the profile with a free model (free_model.py): the "
                        "pipeline's own rate, against the floor of decode, resize and encode")
    parser.add_argument("--free-size", type=int, default=free_model.SIZE, metavar="N",
                        help="the free model's input side (default: %(default)s, u2netp's; "
                        "1024 is IS-Net's and BiRefNet's)")
    parser.add_argument("--renditions", type=int, default=1, metavar="N",
                        help="also run the profile with N renditions (renditions.py, at most "
                        f"{len(renditions.KINDS)}) against its first alone, and report what "
                        "each extra rendition costs")
    parser.add_argument("--no-stages", action="store_true",
                        help="leave out the per-stage profile of a few photos")
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
    return np.asarray(outside + np.minimum(np.maximum(qx, qy), 0) - radius)


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
    # the model's preview as the pipeline makes it: the photo decoded whole, then halved
    rgb = decode.shrink(decode.open_source(photo, profiles.Limits()).load().rgb, spec.input_size)
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
predict.open_model(p.model_request(threads=int(sys.argv[2])))
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


# --------------------------------------------------------------------------- the floor


def floor(photos: list[Path], profile: profiles.Profile, *, cores: int) -> dict[str, Rate]:
    """The rate of the work any pipeline must do to these photos: decode at full size (as
    studiocut's fast path does), area-resize to the output's size, encode as the profile
    says; one thread per core, each on its share of the photos."""
    side = profile.square.size if profile.square is not None else None
    datas = [p.read_bytes() for p in photos]

    def one(data: bytes) -> None:
        rgb = simplejpeg.decode_jpeg(data, "RGB")
        if side is not None:
            k = side / max(rgb.shape[:2])
            rgb = cv2.resize(rgb, (round(rgb.shape[1] * k), round(rgb.shape[0] * k)),
                             interpolation=cv2.INTER_AREA)
        if profile.backdrop is None:
            rgb = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
        encode.encode(rgb, profile.encoding, icc=None, metadata=None)

    def work(share: list[bytes]) -> None:
        for data in share:
            one(data)

    one(datas[0])
    threads = [threading.Thread(target=work, args=(datas[i::cores],)) for i in range(cores)]
    with _Stopwatch() as clock:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return {f"decode + resize + encode, {cores} threads": clock.rate(len(datas))}


if __name__ == "__main__":
    sys.exit(main())
