"""The cluster under faults, with real parts: a redis-server on a free port, ``studiocut
worker`` subprocesses killed with SIGKILL, and the station as a real ``studiocut run``. After
each: one finished row per input, one output per input, no temp files in the spool or the
outputs, queues empty."""

from __future__ import annotations

import json
import random
import shutil
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cluster_harness import QUEUE, Cluster, wait_for
from daemon_harness import shoot

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server is not installed (Debian: redis-server)")


@pytest.fixture
def studio(tmp_path: Path) -> Iterator[Cluster]:
    pytest.importorskip("celery", reason="the cluster extra (celery[redis]) is not installed")
    cluster = Cluster(tmp_path)
    cluster.configure()
    try:
        yield cluster
    finally:
        cluster.close()


def drop(studio: Cluster, count: int, *, start: int = 0, name: str = "photo") -> list[str]:
    """Shoot ``count`` distinct photos into the station's inbox; their names."""
    assert studio.station is not None
    names = []
    for i in range(start, start + count):
        path = shoot(studio.station.inbox / f"{name}{i:03d}.jpg", colour=(200, 20 + i, 30))
        names.append(path.name)
    return names


def attempts(text: str, name: str) -> int:
    return text.count(f"{name}: attempt ")


def test_a_batch_runs_on_the_workers_and_the_status_shows_the_cluster(
        studio: Cluster) -> None:
    worker = studio.worker(concurrency=2)
    station = studio.make_station(workers=3).start()
    names = drop(studio, 6)

    station.wait_done(6, timeout=30)

    report = wait_for(lambda: (r := station.status())["cluster"]["broker"]["state"] == "up"
                      and r, 5, "the status file to say the broker is up", interval=0.2)
    assert report["cluster"]["queues"][QUEUE]["in_flight"] == 0
    assert report["profiles"][0]["queue"] == QUEUE
    assert report["cluster"]["workers"] == [f"w1@{socket.gethostname()}"]
    assert all(attempts(worker.text(), n) == 1 for n in names)
    assert all(r["worker"].startswith("w1@") for r in studio.outbox())
    station.stop()
    studio.check(names)


def test_the_review_page_keeps_the_layers_of_results_made_on_the_cluster(
        studio: Cluster) -> None:
    studio.worker()
    station = studio.make_station(review=True).start()
    names = drop(studio, 2)
    station.wait_done(2, timeout=30)
    station.stop()

    db = sqlite3.connect(studio.root / "state" / "journal.db")
    try:
        revisions = db.execute("SELECT kind, width, height FROM revisions").fetchall()
    finally:
        db.close()
    assert revisions == [("auto", 160, 120)] * 2  # framed layers came back with each result
    studio.check(names)


def test_a_worker_process_killed_mid_job_is_requeued_before_the_visibility_timeout(
        studio: Cluster) -> None:
    # the pool finds a dead process within about 5 s (or the hard time limit finds it, and
    # requeues the job too): a time limit above that shows the pool's own finding
    studio.configure(task_time_limit=10, visibility_timeout=15, job_deadline=30)
    worker = studio.worker(faults="worker-start:sleep=2:photo001")
    station = studio.make_station().start()
    names = drop(studio, 3)
    wait_for(lambda: attempts(worker.text(), "photo001.jpg") == 1, 20, "photo001 started")
    time.sleep(0.5)  # mid-job

    killed = time.monotonic()
    worker.kill_child()
    station.wait_states({n: "done" for n in names}, timeout=30)

    # the pool saw its process die and rejected the job back to the queue: no waiting for
    # the visibility timeout
    assert time.monotonic() - killed < 15
    assert "WorkerLostError" in worker.text()
    assert attempts(worker.text(), "photo001.jpg") == 2
    station.stop()
    studio.check(names)


def test_a_whole_worker_killed_mid_job_is_redelivered_after_the_visibility_timeout(
        studio: Cluster) -> None:
    first = studio.worker(faults="worker-start:sleep=2:photo000")
    station = studio.make_station().start()
    names = drop(studio, 1)
    wait_for(lambda: attempts(first.text(), "photo000.jpg") == 1, 20, "photo000 started")

    killed = time.monotonic()
    first.kill()  # main process and pool: nothing acknowledges, nothing rejects
    assert studio.redis.queues()["unacked"] == 1
    second = studio.worker()
    station.wait_states({"photo000.jpg": "done"}, timeout=30)

    assert time.monotonic() - killed >= 6 - 1  # the visibility timeout, less the start
    assert attempts(second.text(), "photo000.jpg") == 1
    station.stop()
    studio.check(names)


def test_a_worker_killed_after_writing_its_bundle_but_before_the_ack(studio: Cluster) -> None:
    worker = studio.worker(faults="worker-written:sleep=30:photo000")
    station = studio.make_station().start()
    names = drop(studio, 1)
    station.wait_states({"photo000.jpg": "done"}, timeout=20)  # the bundle was there

    worker.kill_child()  # the delivery was never acknowledged: it comes back

    wait_for(lambda: "skipped" in worker.text(), 20, "the redelivery skipped")
    assert attempts(worker.text(), "photo000.jpg") == 1
    station.stop()
    studio.check(names)


def test_a_photo_past_the_time_limit_fails_before_the_visibility_timeout_redelivers_it(
        studio: Cluster) -> None:
    studio.configure(task_time_limit=2, visibility_timeout=3, job_deadline=5)
    worker = studio.worker(faults="worker-start:sleep=8:slow")
    station = studio.make_station().start()
    names = drop(studio, 1) + drop(studio, 1, start=5, name="slow")
    station.wait_states({"photo000.jpg": "done", "slow005.jpg": "failed"}, timeout=30)

    time.sleep(3)  # past the visibility timeout: nothing is delivered again
    assert attempts(worker.text(), "slow005.jpg") == 1
    [slow] = [j for j in station.jobs() if j["source"].endswith("slow005.jpg")]
    assert slow["reason"] == "time-limit" and "2 s time limit" in slow["message"]
    station.stop()
    studio.check(names, failed=frozenset({"slow005.jpg"}))


def test_a_job_delivered_twice_at_once_gives_one_output(studio: Cluster) -> None:
    """What a visibility timeout shorter than a job would cause (cluster.yaml refuses it):
    two workers run one job; the first bundle wins, the second is discarded."""
    station = studio.make_station().start()
    names = drop(studio, 1)
    client = studio.redis.client()
    wait_for(lambda: client.llen(QUEUE) == 1, 20, "the job queued")
    client.rpush(QUEUE, client.lindex(QUEUE, 0))  # Celery does not deduplicate task ids
    worker = studio.worker(concurrency=2, faults="worker-start:sleep=1")

    station.wait_states({"photo000.jpg": "done"}, timeout=20)

    wait_for(lambda: attempts(worker.text(), "photo000.jpg") == 2, 10, "both deliveries ran")
    station.stop()
    studio.check(names)


def test_redis_restarted_mid_batch_loses_nothing(studio: Cluster) -> None:
    studio.configure(job_deadline=6)
    studio.worker(faults="worker-start:sleep=0.3")
    station = studio.make_station(on_broker_down="wait").start()
    names = drop(studio, 8)
    station.wait_done(2, timeout=20)

    studio.redis.stop()  # no persistence: the queue, deliveries and counts are gone
    wait_for(lambda: station.status().get("cluster", {}).get("broker", {}).get("state")
             == "down", 15, "the station to call the broker down", interval=0.3)
    studio.redis.start()

    station.wait_done(8, timeout=45)
    wait_for(lambda: station.status()["cluster"]["broker"]["state"] == "up", 10,
             "the broker up again", interval=0.3)
    assert "waits for the cluster broker" in station.text() or max(
        r["sends"] for r in studio.outbox()) > 1
    station.stop()
    studio.check(names)


def test_an_idle_station_notices_the_broker_going_down(studio: Cluster) -> None:
    station = studio.make_station().start()

    def broker() -> str:
        return str(station.status().get("cluster", {}).get("broker", {}).get("state"))

    wait_for(lambda: broker() == "up", 10, "the broker up", interval=0.3)
    studio.redis.stop()
    wait_for(lambda: broker() == "down", 15, "the broker down", interval=0.3)
    assert "cluster broker redis://127.0.0.1" in station.text()  # the log says so too
    station.stop()


def test_with_the_broker_down_a_local_profile_runs_its_photos_here(studio: Cluster) -> None:
    studio.redis.stop()
    station = studio.make_station(on_broker_down="local").start()
    names = drop(studio, 3)

    station.wait_done(3, timeout=30)

    assert {r["worker"] for r in studio.outbox()} == {"this station"}
    assert "processing it on this station" in station.text()
    station.stop()
    studio.redis.start()
    studio.check(names)


def test_a_station_killed_between_recording_and_sending_sends_at_restart(
        studio: Cluster) -> None:
    studio.worker()
    station = studio.make_station(faults="cluster-recorded:kill:photo001")
    names = drop(studio, 3)
    station.start(wait=False)
    assert station.wait_exit(20) == -signal.SIGKILL
    job = {Path(j["source"]).name: j["id"] for j in station.jobs()}["photo001.jpg"]
    [row] = [r for r in studio.outbox() if r["job"] == job]
    assert (row["state"], row["sends"]) == ("recorded", 0)

    station.faults = ""
    station.start()
    station.wait_done(3, timeout=30)

    assert [r["sends"] for r in studio.outbox() if r["job"] == job] == [1]
    station.stop()
    studio.check(names)


def test_a_photo_that_kills_its_worker_fails_as_poison_after_three_attempts(
        studio: Cluster) -> None:
    worker = studio.worker(faults="worker-start:kill:poison")
    station = studio.make_station().start()
    names = drop(studio, 2) + drop(studio, 1, start=7, name="poison")

    station.wait_states({"photo000.jpg": "done", "photo001.jpg": "done",
                         "poison007.jpg": "failed"}, timeout=60)

    [poison] = [j for j in station.jobs() if j["source"].endswith("poison007.jpg")]
    assert poison["reason"] == "poison"
    assert "3 attempts on the cluster did not finish" in poison["message"]
    assert "was lost (the worker was killed or crashed)" in poison["message"]
    assert attempts(worker.text(), "poison007.jpg") == 3  # the 4th delivery only failed it
    station.stop()
    studio.check(names, failed=frozenset({"poison007.jpg"}))


def test_chaos_60_photos_8_random_kills_of_workers_and_the_station(studio: Cluster) -> None:
    slow = "worker-start:sleep=0.3"  # a GPU's time per photo: kills land mid-job
    nodes = [studio.worker(faults=slow), studio.worker(faults=slow)]
    station = studio.make_station(workers=3).start()
    inbox = station.inbox
    rng = random.Random(17)

    def photographer() -> None:
        for i in range(60):
            shoot(inbox / f"photo{i:03d}.jpg", colour=(200, i, 30 + i))
            time.sleep(rng.uniform(0.05, 0.25))

    feed = threading.Thread(target=photographer)
    feed.start()
    plan = ["worker"] * 3 + ["process"] * 3 + ["station"] * 2
    rng.shuffle(plan)
    kills = []
    for what in plan:
        time.sleep(rng.uniform(0.8, 2.0))
        i = rng.randrange(2)
        if what == "station":
            station.kill9()
            station.start()
        elif what == "worker":
            nodes[i].kill()
            nodes[i] = studio.worker(faults=slow)
        elif nodes[i].children():
            nodes[i].kill_child()
        kills.append(what)
    feed.join()

    names = [f"photo{i:03d}.jpg" for i in range(60)]
    station.wait_states({n: "done" for n in names}, timeout=90)
    station.stop()
    studio.check(names, settle=20)
    print(json.dumps({"kills": kills}))
