"""Where one photo's CPU time goes: the pipeline's own stages, as it marks them
(``studiocut.clock``), plus the journal's rows a daemon writes for each photo.

Photos run one at a time in this process, after one untimed warm-up, each stage timed with
the CPU time of the thread that ran it. OpenCV and ONNX Runtime are held to one thread here,
so that thread's CPU time is all the CPU a stage used (as on a station whose workers keep
every core busy, where a stage's extra threads buy nothing).
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import cv2

from studiocut import clock, journal, profiles
from studiocut.imaging import pipeline
from studiocut.models import predict

ORDER = ("read", "decode", "preview", "model", "matte", "framing", "decontamination",
         "composite", "encode", "write", "journal", "other")


def profile_stages(photos: list[Path], profile: profiles.Profile, out: Path) -> str:
    """Run ``photos`` through the pipeline as ``studiocut process`` does, and the journal
    rows as the daemon writes them; return the table of mean milliseconds per stage."""
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        model = predict.open_model(profile.model_request(threads=1))
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        pipeline.process(photos[0], model, profile, output_root=out)  # warm-up, untimed
        recorder = clock.Recorder()
        totals = []
        with tempfile.TemporaryDirectory() as state, clock.recording(recorder):
            rows = journal.Journal(Path(state) / "journal.db")
            for photo in photos:
                started = time.thread_time()
                with clock.stage("other"):  # what the pipeline does outside its stages
                    outcome = pipeline.process(photo, model, profile, output_root=out)
                if not outcome.ok:
                    raise SystemExit(f"error: {outcome.message}")
                with clock.stage("journal"):
                    _journal_rows(rows, profile.name, photo, outcome)
                totals.append(time.thread_time() - started)
            rows.close()
    finally:
        cv2.setNumThreads(threads)
    n = len(photos)
    lines = [f"stages, CPU ms of one thread per photo (mean of {n} photos, one at a time, "
             "OpenCV and the model on one thread):", f"  {'stage':<18}{'cpu':>8}{'wall':>8}"]
    names = [s for s in ORDER if s in recorder.cpu] + sorted(set(recorder.cpu) - set(ORDER))
    for name in names:
        lines.append(f"  {name:<18}{recorder.cpu[name] / n * 1e3:8.1f}"
                     f"{recorder.wall[name] / n * 1e3:8.1f}")
    total = statistics.mean(totals)
    model_cpu = recorder.cpu.get("model", 0.0) / n
    lines.append(f"  {'total':<18}{total * 1e3:8.1f}")
    lines.append(f"  {'total less model':<18}{(total - model_cpu) * 1e3:8.1f}")
    return "\n".join(lines)


def _journal_rows(rows: journal.Journal, profile: str, photo: Path,
                  outcome: pipeline.Outcome) -> None:
    """The rows the daemon writes for one photo: queued, claimed, output reserved, done."""
    st = os.stat(photo)
    job = rows.enqueue(profile, photo, journal.Identity.of(st), "v1")
    assert job is not None and outcome.output is not None
    claimed = rows.claim_next([profile])
    assert claimed is not None
    rows.reserve_output(job.id, [outcome.output], exists=lambda _: False)
    rows.finish(job.id, journal.DONE, output=outcome.output, seconds=outcome.seconds)
