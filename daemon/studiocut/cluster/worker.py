"""worker: what a GPU worker process does with each job it takes from its queue.

``start`` checks the queue's models are installed (it never downloads one) and runs the
Celery worker; each pool process loads them once, at its start (``load``). ``consume`` runs
one job: a job whose bundle exists is skipped (a resend, or a redelivery after the bundle was
written but before the ack); otherwise the attempt is counted in Redis, since redelivery
alone would loop forever on a photo that kills its worker, and after ``max_attempts`` the
job is failed as poison. A photo past the soft time limit (90 % of ``task_time_limit``) fails
with that reason; one the hard limit has to kill goes back to the queue, and its attempts
count. The pipeline's ``make`` runs on the spooled input with the recipe's
profile and what the station decided for the photo (SKU, view, its SKU's lineups, revision):
one cut-out, every rendition rendered from it. The bundle is written: the first writer wins.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import redis
from celery import signals
from celery.exceptions import SoftTimeLimitExceeded

from studiocut import faults
from studiocut.cluster import app, recipe, spool
from studiocut.cluster.config import Cluster
from studiocut.errors import ConfigError, ModelError
from studiocut.imaging import pipeline
from studiocut.models import predict
from studiocut.models.registry import spec_for

log = logging.getLogger(__name__)

ATTEMPTS = "studiocut:attempts:{}"
LOST = "studiocut:lost:{}"  # what the attempt is blamed for if its process never returns
KEEP_COUNTS = 7 * 86400


@dataclass
class _Process:
    """What one pool process holds: the cluster, its spool, a Redis client, the threads
    each model may use."""

    cluster: Cluster
    root: Path
    redis: redis.Redis
    threads: int
    name: str


_here: _Process | None = None


def missing_models(models: tuple[str, ...]) -> list[str]:
    """The ``studiocut models pull`` command for each of ``models`` not installed here."""
    return [predict.pull_command(spec_for(m)) for m in models
            if spec_for(m).needs_files and not predict.installed(spec_for(m))]


def load(cluster: Cluster, queue: str, *, threads: int, node: str) -> None:
    """Set up this pool process: load the queue's models (once: they stay open), connect to
    Redis, sweep temp files dead processes left. Raise ModelError for a missing model."""
    global _here
    root = cluster.spool_root()
    cv2.setNumThreads(threads)  # the process's share of the cores, for OpenCV's stages too
    for name in cluster.queues[queue]:
        predict.load(name, threads=threads)
    client = redis.Redis.from_url(cluster.broker, socket_timeout=cluster.socket_timeout,
                                  socket_connect_timeout=cluster.socket_connect_timeout)
    _here = _Process(cluster, root, client, threads, f"{node}:{os.getpid()}")
    spool.sweep(root, max_age=2 * cluster.task_time_limit)


def consume(request: Any, relative: str, recipe_data: dict[str, Any], key: str, name: str,
            keep: bool) -> dict[str, Any]:
    """Run one job and write its bundle; return a short summary (the task's return value,
    ignored, but logged by Celery)."""
    here = _here
    assert here is not None, "worker process not set up (worker_process_init)"
    root, cluster = here.root, here.cluster
    if spool.read_bundle(root, key) is not None:
        return {"status": "skipped", "reason": "result exists"}
    if not (root / relative).is_file():
        return {"status": "skipped", "reason": "input gone: its station has finished it"}
    attempt = int(here.redis.incr(ATTEMPTS.format(key)))
    here.redis.expire(ATTEMPTS.format(key), KEEP_COUNTS)
    meta: dict[str, Any] = {"key": key, "name": name, "worker": here.name, "attempts": attempt,
                            "redelivered": bool((request.delivery_info or {}).get("redelivered"))}
    if attempt > cluster.max_attempts:
        last = here.redis.get(LOST.format(key))
        last = last.decode() if isinstance(last, bytes) else last
        meta.update(status="failed", reason="poison", message=(
            f"{name}: failed as poison: {attempt - 1} attempts on the cluster did not finish"
            + (f" (last: {last})" if last else "")))
        return _finish(here, key, relative, meta)
    here.redis.set(LOST.format(key), f"attempt {attempt} on {here.name} was lost (the worker "
                   "was killed or crashed)", ex=KEEP_COUNTS)
    log.info("%s: attempt %d on %s", name, attempt, here.name)
    started = time.perf_counter()
    try:
        faults.point("worker-start", Path(name))
        job = recipe.job_of(recipe_data, name="cluster")
        model = predict.open_model(job.profile.model_request(threads=here.threads))
        made = pipeline.make(root / relative, model, job.profile, product=job.product,
                             lineups=job.lineups, keep=False, own=job.own)
    except SoftTimeLimitExceeded:  # the photo, not the machine: another try would do the same
        meta.update(status="failed", reason="time-limit", message=(
            f"{name}: took longer than the cluster's {cluster.task_time_limit:g} s time limit "
            f"on {here.name}"))
        return _finish(here, key, relative, meta)
    except ConfigError as e:  # a recipe this worker's version cannot read
        meta.update(status="failed", reason="recipe", message=f"{name}: {e}")
        return _finish(here, key, relative, meta)
    except Exception as e:  # the photo's own failure: deterministic, no retry here
        if not (root / relative).is_file():  # its station finished it meanwhile
            return {"status": "skipped", "reason": "input gone: its station has finished it"}
        outcome = pipeline.failure(root / relative, e, time.perf_counter() - started)
        meta.update(status="failed", reason=outcome.reason, message=outcome.message,
                    retryable=outcome.retryable, environment=outcome.environment)
        return _finish(here, key, relative, meta)
    framed = made.framed
    # every rendition, in the profile's order: its name, flags and layout (the station
    # records a first view's scale and floor line from it); the first's bytes are the output
    meta.update(status="ok", flags=list(made.flags), seconds=time.perf_counter() - started,
                signals=vars(framed.signals) if framed.signals else None,
                renditions=[{"name": r.name, "flags": list(r.flags),
                             "layout": spool.written_layout(r.layout)}
                            for r in made.renditions])
    files = {}
    if keep:  # what the review page encodes a refined result with
        tags = framed.metadata
        files = {name: blob for name, blob in (("icc", framed.icc), ("exif", tags.exif),
                                               ("iptc", tags.iptc), ("xmp", tags.xmp))
                 if blob}
    return _finish(here, key, relative, meta, output=made.data,
                   more=[r.data for r in made.renditions[1:]], files=files,
                   layers=(framed.before, framed.alpha) if keep else None)


def _finish(here: _Process, key: str, relative: str, meta: dict[str, Any],
            **parts: Any) -> dict[str, Any]:
    """Write the bundle, forget the job's counts (later deliveries skip it), and say what
    became of it. A bundle is wanted only while its input is in the spool: a station
    removes the input (first) and the bundle when it has its result, so a second copy of
    the job that finishes after that removes its own bundle rather than leave it behind."""
    won = spool.write_bundle(here.root, key, meta, **parts)
    if won and not (here.root / relative).is_file():
        spool.remove(here.root, key, None)
        log.info("%s: its station already has this job's result: this copy is discarded",
                 meta["name"])
        return {"status": "skipped", "reason": "input gone: its station has finished it"}
    faults.point("worker-written", Path(meta["name"]))
    with contextlib.suppress(redis.RedisError):  # they expire anyway
        here.redis.delete(ATTEMPTS.format(key), LOST.format(key))
    log.info("%s: %s%s", meta["name"], meta["status"], "" if won else
             " (a copy of this job finished first: this one is discarded)")
    return {"status": meta["status"] if won else "duplicate-discarded"}


def start(cluster: Cluster, queue: str, *, concurrency: int, pool: str, name: str | None,
          threads: int = 0, loglevel: str = "INFO") -> None:
    """Run the Celery worker for ``queue`` until it is stopped (SIGTERM: finish the running
    photos). Raise ConfigError for an unknown queue, ModelError for a missing model."""
    if queue not in cluster.queues:
        raise ConfigError([f"{cluster.source}: At 'queues': no queue {queue!r} (expected "
                           f"{' | '.join(cluster.queues)})"])
    missing = missing_models(cluster.queues[queue])
    if missing:
        raise ModelError("a model of queue " + queue + " is not installed on this machine: "
                         "run " + "; ".join(f"`{m}`" for m in missing))
    cluster.spool_root()  # a machine cluster.yaml names no spool for cannot start
    threads = threads or max(1, (os.cpu_count() or 1) // max(1, concurrency))
    node = f"{name or f'studiocut-{queue}-{os.getpid()}'}@{socket.gethostname()}"

    def on_process_init(**_: Any) -> None:
        load(cluster, queue, threads=threads, node=node)

    signals.worker_process_init.connect(on_process_init, weak=False)
    if pool != "prefork":  # solo and threads pools have no child processes to set up
        load(cluster, queue, threads=threads, node=node)
    celery = app.make(cluster, consume=consume)
    celery.worker_main([
        "worker", f"--loglevel={loglevel}", "-Q", queue, "-c", str(concurrency), "-P", pool,
        "-n", node,
        # no broadcast chatter at start or while idle: fewer moving parts
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ])


def default_pool() -> str:
    """prefork where processes fork cheaply; threads on Windows (billiard's prefork is not
    dependable there)."""
    return "threads" if sys.platform == "win32" else "prefork"
