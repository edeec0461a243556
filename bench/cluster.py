"""The cluster's throughput and fault recovery: one station, a real redis-server, real workers.

The same batch of photos goes through a worker with 1 and then 2 pool processes (one model
thread each), with u2netp, the embedded model. For each: photos per second (first drop to
last output), p50/p95 latency from a photo's drop to its output; then, with 2 processes, one
pool process is killed (SIGKILL) mid-job: the recovery time is from the kill to that photo's
output. Lost (an input without an output) and duplicated (a photo finished twice, or an
extra output) must be 0.

    python bench/cluster.py [--count 24] [--size 1200x900] [--gpu-seconds 0] [--json]

On a machine whose CPU does all the work (no GPU) two processes share its cores with the
station: ``--gpu-seconds S`` stands in for a GPU, whose answer the worker's CPU waits for (the
worker's ``worker-start`` fault point sleeps S s per photo). Needs redis-server and the
cluster extra. Figures come from one run on a shared machine:
compare only figures of the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from cluster_harness import Cluster, wait_for
from daemon_harness import shoot

PROFILE: dict[str, Any] = {"model": "u2netp", "key": None, "backdrop": "#ffffff",
                           "format": "jpeg", "square": False, "settle": 0.2}


def batch(root: Path, *, processes: int, count: int, size: tuple[int, int],
          kill: bool = False, gpu_seconds: float = 0.0) -> dict[str, Any]:
    """Run ``count`` photos through a worker of ``processes`` pool processes; the figures."""
    studio = Cluster(root)
    try:
        studio.configure(task_time_limit=60, visibility_timeout=90, job_deadline=120)
        # a GPU stand-in: the worker's CPU waits this long per photo, as for a GPU's answer
        faults = f"worker-start:sleep={gpu_seconds}" if gpu_seconds else ""
        worker = studio.worker(concurrency=processes, threads=1, faults=faults)
        station = studio.make_station(workers=2 * processes + 2, **PROFILE).start()
        dropped: dict[str, float] = {}
        for i in range(count):
            path = shoot(station.inbox / f"photo{i:03d}.jpg", size=size,
                         colour=(180, 40 + i % 200, 30))
            dropped[path.name] = time.time()
        killed: tuple[str, float] | None = None
        if kill:
            wait_for(lambda: len(station.outputs()) >= count // 4, 300, "a quarter done")
            pid = worker.children()[0]
            running = re.findall(rf"(photo\d+\.jpg): attempt \d+ on \S+:{pid}\n", worker.text())
            os.kill(pid, 9)
            killed = (running[-1], time.time())
        station.wait_done(count, timeout=600)
        station.stop()
        outputs = {p.stem: p.stat().st_mtime for p in station.outputs()}
        text = worker.text()
    finally:
        studio.close()
    latencies = [outputs[Path(n).stem] - t for n, t in dropped.items() if Path(n).stem in outputs]
    finished = [text.count(f"{n}: ok") for n in dropped]
    figures: dict[str, Any] = {
        "processes": processes, "photos": count,
        "photos_per_s": round(count / (max(outputs.values()) - min(dropped.values())), 3),
        "latency_p50_s": round(statistics.median(latencies), 3),
        "latency_p95_s": round(sorted(latencies)[max(0, round(0.95 * len(latencies)) - 1)], 3),
        "lost": sum(Path(n).stem not in outputs for n in dropped),
        "duplicated": sum(max(0, c - 1) for c in finished) + max(0, len(outputs) - count),
    }
    if killed is not None:
        name, at = killed
        figures["killed_photo"] = name
        figures["recovery_s"] = round(outputs[Path(name).stem] - at, 3)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--size", default="1200x900")
    parser.add_argument("--gpu-seconds", type=float, default=0.0, metavar="S",
                        help="add S seconds per photo in which the worker's CPU waits, standing "
                        "in for a GPU's inference (default: 0, the CPU does all the work)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    runs = []
    with tempfile.TemporaryDirectory(prefix="studiocut-bench-cluster-") as folder:
        for processes, kill in ((1, False), (2, False), (2, True)):
            root = Path(folder) / f"p{processes}{'k' if kill else ''}"
            root.mkdir()
            runs.append(batch(root, processes=processes, count=args.count,
                              size=(width, height), kill=kill,
                              gpu_seconds=args.gpu_seconds))
            if not args.json:
                print(json.dumps(runs[-1]), flush=True)
    one, two, killed = runs
    result = {
        "workers_1": one["photos_per_s"], "workers_2": two["photos_per_s"],
        "speedup": round(two["photos_per_s"] / one["photos_per_s"], 2),
        "latency_p50_s": {"workers_1": one["latency_p50_s"], "workers_2": two["latency_p50_s"]},
        "latency_p95_s": {"workers_1": one["latency_p95_s"], "workers_2": two["latency_p95_s"]},
        "lost": sum(r["lost"] for r in runs),
        "duplicated": sum(r["duplicated"] for r in runs),
        "recovery_s": killed["recovery_s"],
        "gpu_seconds": args.gpu_seconds, "cpu_count": os.cpu_count(),
        "loadavg": [round(v, 2) for v in os.getloadavg()],
        "runs": runs,
    }
    print(json.dumps(result, indent=None if args.json else 1))
    return 0 if result["lost"] == 0 and result["duplicated"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
