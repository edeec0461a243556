"""station: the executor that runs a station's photos on the GPU pool.

``ClusterExecutor.run`` is called from each of the daemon's worker threads and blocks until
the photo's result is back, so ``--workers`` is the number of photos a station keeps in flight
on the pool. For one photo::

    copy the input into the spool (content-addressed)
    record the job in the journal's outbox            <- a station killed here sends at restart
    send it, with the job key as the Celery task id   (again after its deadline, doubling)
    wait for results/<key>/                           (the worker's bundle)
    turn the bundle into a Result (every rendition); remove the spool files it owns

A station restarted after a kill claims its jobs again (the journal does that); the same key
finds the bundle that came meanwhile, or sends again. While the broker is down a profile
with ``on_broker_down: local`` runs its photos here; ``wait`` keeps them waiting, and says so.
``Routing`` sends each Work to the cluster or to the local executor, as its profile says.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import Any

import redis
from kombu.exceptions import OperationalError

from studiocut import faults
from studiocut.cluster import app, recipe, spool
from studiocut.cluster.broker import PROBE_EVERY, Broker
from studiocut.cluster.config import Cluster
from studiocut.errors import InputError
from studiocut.hotfolder.executor import Executor, LocalExecutor, Result, Work, failed
from studiocut.imaging import frame
from studiocut.imaging.metadata import Metadata
from studiocut.imaging.pipeline import Framed, Rendered
from studiocut.imaging.triage import Signals
from studiocut.journal import Journal, Remote
from studiocut.journal.outbox import LOCAL, RECORDED, SENT

log = logging.getLogger(__name__)

SEND_ERRORS = (OperationalError, redis.RedisError, ConnectionError, OSError)
POLL = 0.1  # seconds between looks for a bundle
RETRY_SEND = 1.0  # seconds between sends while the broker fails
WORKERS_SEEN = 3600.0  # the status lists the workers that answered within this many seconds


class ClusterExecutor:
    """Runs Works on the cluster's workers; ``local`` runs them here while the broker is
    down for profiles that say ``on_broker_down: local``."""

    def __init__(self, cluster: Cluster, journal: Journal, local: Executor) -> None:
        self._cluster = cluster
        self._root = cluster.spool_root()
        self._journal = journal
        self._local = local
        self._app = app.make(cluster)
        self.broker = Broker(cluster)
        self._stop = threading.Event()
        self._send_lock = threading.Lock()
        spool.sweep(self._root, max_age=2 * cluster.task_time_limit)
        # while no photo is out, this thread is what notices the broker come and go
        self._watch = threading.Thread(target=self._watch_broker, name="cluster-broker",
                                       daemon=True)
        self._watch.start()

    def _watch_broker(self) -> None:
        while not self._stop.wait(PROBE_EVERY):
            self.broker.probe(tuple(self._cluster.queues))

    def close(self) -> None:
        """Stop waiting: photos still out return as interrupted (their jobs run again at the
        next start and find their bundles)."""
        self._stop.set()

    def release(self) -> None:
        """Close the broker connections (after the workers stopped)."""
        self._stop.set()
        self._watch.join()
        self.broker.close()
        self._app.close()

    def run(self, work: Work) -> Result:
        started = time.perf_counter()
        try:
            data = work.source.read_bytes()
        except FileNotFoundError:
            return Result(work.source, 0.0, reason="vanished",
                          message=f"{work.source}: deleted before it was processed")
        except OSError as e:
            return failed(work.source, InputError(
                "unreadable", f"{work.source}: cannot read: {e.strerror or e}",
                retryable=True), 0.0)
        rules = recipe.of(work.profile, product=work.product, lineups=work.lineups,
                          revision=work.revision)
        key = spool.job_key(data, rules)
        queue = work.profile.dispatch.queue
        assert queue is not None
        row = self._journal.remote(work.job)
        if row is None or row.key != key or row.state not in (RECORDED, SENT, LOCAL):
            relative = spool.input_path(data, work.source.suffix)
            spool.copy_in(self._root, relative, data)
            row = self._journal.record_remote(work.job, key, queue, relative)
            faults.point("cluster-recorded", work.source)
        message = [row.input, rules, key, work.source.name, work.keep]
        return self._await(work, row, message, data, started)

    def _await(self, work: Work, row: Remote, message: list[Any], data: bytes,
               started: float) -> Result:
        """Send as due and wait for the bundle; the Result it holds."""
        next_send = 0.0
        waiting_said = False
        while True:
            bundle = spool.read_bundle(self._root, row.key)
            if bundle is not None:
                return self._collect(work, row, bundle, started)
            if self._stop.is_set():
                return Result(work.source, time.perf_counter() - started, reason="interrupted",
                              message=f"{work.source}: the station stopped while the cluster "
                              "ran it", environment=True)
            now = time.time()
            if time.monotonic() >= next_send and self._due(row, now):
                try:
                    self._send(row, message, data)
                except SEND_ERRORS as e:
                    next_send = time.monotonic() + RETRY_SEND
                    if self.broker.failed(e):
                        if work.profile.dispatch.on_broker_down == "local":
                            return self._run_here(work, row)
                        if not waiting_said:
                            log.warning("%s waits for the cluster broker (down; the profile "
                                        "says on_broker_down: wait)", work.source)
                            waiting_said = True
                else:
                    self.broker.ok()
                    row = self._journal.sent_remote(row.job)
                    if row.sends > 1:
                        log.warning("%s: no result from the cluster in time; sent again "
                                    "(send %d)", work.source, row.sends)
            else:
                self.broker.probe(tuple(self._cluster.queues))
            self._stop.wait(POLL)

    def _due(self, row: Remote, now: float) -> bool:
        """Whether ``row`` is to be sent now: never sent, or unanswered past its deadline
        (the job deadline, doubled at each send, at most eight times)."""
        if row.state != SENT or row.sent_at is None:
            return True
        deadline = self._cluster.job_deadline * min(2.0 ** max(row.sends - 1, 0), 8.0)
        return now > float(row.sent_at) + deadline

    def _send(self, row: Remote, message: list[Any], data: bytes) -> None:
        spool.copy_in(self._root, row.input, data)  # removed by an earlier finish of the key
        with self._send_lock:
            self._app.send_task(app.TASK_NAME, args=message, task_id=row.key,
                                queue=row.queue, ignore_result=True)

    def _run_here(self, work: Work, row: Remote) -> Result:
        """The broker is down and the profile says local: run the photo on this station."""
        log.warning("%s: the cluster broker is down; processing it on this station "
                    "(on_broker_down: local)", work.source)
        self._journal.end_remote(row.job, LOCAL, worker="this station")
        result = self._local.run(work)
        self._journal.end_remote(row.job, "done" if result.ok else "failed")
        self._tidy(row)
        return result

    def _collect(self, work: Work, row: Remote, bundle: spool.Bundle,
                 started: float) -> Result:
        meta = bundle.meta
        seconds = time.perf_counter() - started
        unreadable = None
        if bundle.ok:
            try:
                result = _result(work, bundle, seconds)
            except (KeyError, IndexError, TypeError, ValueError, OSError) as e:
                # a bundle cut short or damaged on the shared spool: sent again, as a result
                # that never came would be
                unreadable = f"{type(e).__name__}: {e}"
                log.warning("%s: the cluster's result in %s could not be read (%s)",
                            work.source, bundle.folder, unreadable)
                result = Result(work.source, seconds, reason="cluster-result",
                                message=f"{work.source}: the cluster's result could not be "
                                f"read ({unreadable}); it is made again", retryable=True)
        else:
            text = str(meta.get("message") or meta.get("reason"))
            text = text.replace(str(self._root / row.input), str(work.source))
            result = Result(work.source, seconds, reason=str(meta.get("reason") or "failed"),
                            message=text, retryable=bool(meta.get("retryable")),
                            environment=bool(meta.get("environment")))
        ended = "done" if bundle.ok and unreadable is None else "failed"
        self._journal.end_remote(row.job, ended, meta.get("worker"))
        self._tidy(row)
        return result

    def _tidy(self, row: Remote) -> None:
        """Remove the job's bundle and input, unless another job waits for the same key."""
        if not self._journal.sharing_key(row.key, row.job):
            spool.remove(self._root, row.key, row.input)

    def report(self) -> dict[str, Any]:
        """The cluster as this station sees it, for the status and the review page."""
        flights = self._journal.remote_counts()
        queues = {q: {"in_flight": sum(flights.get(q, {}).values()),
                      "queued": self.broker.report()["queued"].get(q)}
                  for q in self._cluster.queues}
        # a worker process is named <node>@<host>:<pid>; the status lists the nodes
        workers = sorted({w.rsplit(":", 1)[0] for w in self._journal.remote_workers(
            time.time() - WORKERS_SEEN)})
        return {"broker": self.broker.report(), "queues": queues, "workers": workers}


def _result(work: Work, bundle: spool.Bundle, seconds: float) -> Result:
    """The Result a worker's successful bundle holds, as the local executor gives it."""
    meta = bundle.meta
    signals = Signals(**meta["signals"]) if meta.get("signals") else None
    renditions = _renditions(bundle)
    framed = _framed(bundle, signals, renditions[0].layout) if work.keep else None
    renditions = (replace(renditions[0], framed=framed), *renditions[1:])
    return Result(work.source, seconds, renditions[0].data, tuple(meta.get("flags", ())),
                  signals, framed, renditions=renditions)


def _renditions(bundle: spool.Bundle) -> tuple[Rendered, ...]:
    """Every rendition the worker made, in the profile's order, as the pipeline gives them
    to the local executor (the publisher writes them all or none, and records the lineup a
    first view of a SKU set)."""
    return tuple(Rendered(spec["name"], bundle.output(index), spool.read_layout(spec["layout"]),
                          tuple(spec["flags"]))
                 for index, spec in enumerate(bundle.meta["renditions"]))


def _framed(bundle: spool.Bundle, signals: Signals | None,
            layout: frame.Layout) -> Framed | None:
    """The first rendition's framed layers the worker kept for the review page, when it
    did."""
    layers = bundle.layers()
    if layers is None:
        return None
    kept = Metadata(exif=bundle.blob("exif"), iptc=bundle.blob("iptc"), xmp=bundle.blob("xmp"))
    return Framed(layers[0], layers[1], bundle.blob("icc"), kept, signals, layout)


class Routing:
    """Each Work to the cluster or to this station, as its profile's ``executor`` says."""

    def __init__(self, local: LocalExecutor, cluster: ClusterExecutor) -> None:
        self._local = local
        self.cluster = cluster

    def run(self, work: Work) -> Result:
        if work.profile.dispatch.remote:
            return self.cluster.run(work)
        return self._local.run(work)

    def close(self) -> None:
        self.cluster.close()

    def release(self) -> None:
        self.cluster.release()

    def report(self) -> dict[str, Any]:
        return self.cluster.report()


def routing(cluster: Cluster) -> Any:
    """The daemon's ``route``: given its LocalExecutor and journal, the Routing executor."""

    def route(local: LocalExecutor, journal: Journal) -> Routing:
        return Routing(local, ClusterExecutor(cluster, journal, local))

    return route
