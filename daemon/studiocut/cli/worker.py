"""worker: ``studiocut worker``: a GPU machine's worker for one queue of the cluster."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

from studiocut.errors import EXIT_OK, ConfigError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    """Add ``worker`` to the command line."""
    w = sub.add_parser("worker", parents=[common], help="run a cluster worker (GPU machine)",
                       description="Take photos from a cluster queue and cut them out here, "
                       "for the stations that share cluster.yaml (README: Several stations). "
                       "Each worker process loads the queue's models once, at its start.")
    w.add_argument("--cluster", type=Path, required=True, metavar="FILE",
                   help="the cluster.yaml the stations use")
    w.add_argument("--queue", required=True, metavar="NAME", help="the queue to take jobs from")
    w.add_argument("--concurrency", type=int, default=1, metavar="N",
                   help="photos processed at once, one process each (default: 1)")
    w.add_argument("--threads", type=int, default=0, metavar="N",
                   help="CPU threads each process's model may use (default: the cores shared "
                   "out between the processes)")
    w.add_argument("--pool", choices=("prefork", "threads", "solo"), default=None,
                   help="Celery pool (default: prefork; threads on Windows)")
    w.add_argument("--name", default=None, metavar="NAME",
                   help="this worker's name in logs and bundles (default: from the queue)")
    w.set_defaults(handler=cmd_worker)


def cmd_worker(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("celery") is None:
        raise ConfigError(["studiocut worker needs the cluster extra: pip install "
                           "'studiocut[cluster]'"])
    if args.concurrency < 1 or args.threads < 0:
        raise ConfigError([f"--concurrency must be 1 or more (got {args.concurrency}) and "
                           f"--threads 0 or more (got {args.threads})"])
    from studiocut.cluster import config, worker

    cluster = config.read(args.cluster)
    worker.start(cluster, args.queue, concurrency=args.concurrency,
                 pool=args.pool or worker.default_pool(), name=args.name,
                 threads=args.threads,
                 loglevel="DEBUG" if args.verbose > 1 else "INFO")
    return EXIT_OK
