"""config: cluster.yaml, the file stations and GPU workers share, read into a checked value.

It lives beside (not inside) the profiles folder::

    broker: redis://gpu-1.studio.lan:6379/0
    spool:                          # the shared spool folder as each machine mounts it
      station-a: /mnt/studio-spool
      gpu-1: /srv/spool
      "*": /srv/spool               # any other machine
    queues:
      cutout: {models: [u2netp]}    # models each worker process loads at start
    task_time_limit: 600            # seconds one photo may take on a worker
    visibility_timeout: 900         # must exceed task_time_limit

Every problem is reported at once, with its key path (the profiles' ``Problems``).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from studiocut.errors import ConfigError
from studiocut.models.registry import MODELS
from studiocut.profiles import load_yaml_text
from studiocut.profiles.fields import MISSING, Problems, parse_number, unknown_keys

CLUSTER_FILE = "cluster.yaml"
KEYS = ("broker", "spool", "queues", "task_time_limit", "visibility_timeout", "job_deadline",
        "max_attempts", "restore_interval", "socket_timeout", "socket_connect_timeout",
        "worker_lost_wait", "model_load_timeout", "broker_down_after")


@dataclass(frozen=True)
class Cluster:
    """What cluster.yaml says. Times in seconds: a worker stops a photo after
    ``task_time_limit``; Redis hands an unacknowledged job to another worker after
    ``visibility_timeout``; a station sends a job again when no result came within
    ``job_deadline`` (doubling each time); a photo whose ``max_attempts`` all died with their
    worker is failed as poison."""

    source: Path
    broker: str
    spool: dict[str, Path]
    queues: dict[str, tuple[str, ...]]  # queue name -> models its workers load at start
    task_time_limit: float = 600.0
    visibility_timeout: float = 900.0
    job_deadline: float = 1500.0
    max_attempts: int = 3
    restore_interval: float = 10.0
    socket_timeout: float = 5.0
    socket_connect_timeout: float = 2.0
    worker_lost_wait: float = 2.0
    model_load_timeout: float = 300.0
    broker_down_after: float = 5.0

    def spool_root(self, host: str | None = None) -> Path:
        """The shared spool as ``host`` (this machine by default) mounts it; raise
        ConfigError when cluster.yaml names none for it."""
        host = host or socket.gethostname()
        root = self.spool.get(host) or self.spool.get("*")
        if root is None:
            raise ConfigError([f"{self.source}: At 'spool': no folder for this machine "
                               f"({host}) (expected a '{host}:' or a '\"*\":' entry)"])
        return root


def beside(profiles_dir: Path) -> Path:
    """Where a station's cluster.yaml lives: beside its profiles folder."""
    return profiles_dir.parent / CLUSTER_FILE


def read(path: Path) -> Cluster:
    """Read and check cluster.yaml; raise ConfigError listing every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError([f"{path}: cannot read the cluster file: {e.strerror or e}"]) from e
    return parse(load_yaml_text(text, str(path)), source=path)


def parse(data: object, *, source: Path) -> Cluster:
    """Given cluster.yaml's loaded YAML, return the Cluster; raise ConfigError."""
    p = Problems(str(source))
    if not isinstance(data, dict):
        p.add("(top)", "the cluster file must be a mapping of keys", data, "broker: redis://...")
        raise ConfigError(p.items)
    unknown_keys(data, KEYS, "", p)
    broker = data.get("broker")
    if not (isinstance(broker, str) and broker.startswith(("redis://", "rediss://"))):
        p.add("broker", "must be the Redis URL of the broker", broker,
              "redis://HOST:6379/0")
        broker = ""
    spool = _spool(data.get("spool"), p)
    queues = _queues(data.get("queues"), p)

    def number(key: str, default: float, lo: float, hi: float, integer: bool = False) -> Any:
        return parse_number(data.get(key, MISSING), key, p, default, lo=lo, hi=hi,
                            integer=integer)

    limit = float(number("task_time_limit", 600.0, 1, 86400))
    visibility = float(number("visibility_timeout", int(limit * 1.5) + 1, 2, 7 * 86400))
    deadline = float(number("job_deadline", visibility + limit, 2, 30 * 86400))
    cluster = Cluster(
        source=source, broker=broker, spool=spool, queues=queues, task_time_limit=limit,
        visibility_timeout=visibility, job_deadline=deadline,
        max_attempts=number("max_attempts", 3, 1, 100, integer=True),
        restore_interval=float(number("restore_interval", 10.0, 0.5, 3600)),
        socket_timeout=float(number("socket_timeout", 5.0, 0.1, 120)),
        socket_connect_timeout=float(number("socket_connect_timeout", 2.0, 0.1, 60)),
        worker_lost_wait=float(number("worker_lost_wait", 2.0, 0.1, 60)),
        model_load_timeout=float(number("model_load_timeout", 300.0, 1, 3600)),
        broker_down_after=float(number("broker_down_after", 5.0, 0, 3600)),
    )
    if not p.items:
        # Redis gives a job that is still unacknowledged after the visibility timeout to
        # another worker, running or not: a job allowed to run longer runs twice by design.
        if visibility <= limit:
            p.add("visibility_timeout", "must exceed task_time_limit, or Redis hands jobs "
                  "that are still running to a second worker", visibility,
                  f"more than {limit:g}, e.g. {int(limit * 1.5) + 1}")
        if deadline <= limit:
            p.add("job_deadline", "must exceed task_time_limit, or stations send jobs again "
                  "while they run", deadline, f"more than {limit:g}")
    if p.items:
        raise ConfigError(p.items)
    return cluster


def _spool(value: object, p: Problems) -> dict[str, Path]:
    if isinstance(value, str) and value:
        return {"*": Path(value)}
    if not isinstance(value, dict) or not value:
        p.add("spool", "must map machine names to the shared spool folder", value,
              '{station-a: /mnt/spool, "*": /srv/spool}')
        return {}
    found = {}
    for host, folder in value.items():
        if not (isinstance(folder, str) and folder.strip()):
            p.add(f"spool.{host}", "must be a folder path", folder, "/mnt/studio-spool")
            continue
        # one file for every machine: a Windows station's path is absolute too
        if not (PurePosixPath(folder).is_absolute() or PureWindowsPath(folder).is_absolute()
                or folder.startswith("~")):
            p.add(f"spool.{host}", "must be an absolute folder path", folder,
                  "/mnt/studio-spool or \\\\server\\spool")
            continue
        found[str(host)] = Path(folder).expanduser()
    return found


def _queues(value: object, p: Problems) -> dict[str, tuple[str, ...]]:
    if isinstance(value, list) and value and all(isinstance(q, str) and q for q in value):
        return {q: () for q in value}
    if not isinstance(value, dict) or not value:
        p.add("queues", "must name at least one queue", value, "{cutout: {models: [u2netp]}}")
        return {}
    found: dict[str, tuple[str, ...]] = {}
    for name, spec in value.items():
        spec = {} if spec is None else spec
        if not isinstance(spec, dict):
            p.add(f"queues.{name}", "must be a mapping", spec, "{models: [u2netp]}")
            continue
        unknown_keys(spec, ("models",), f"queues.{name}.", p)
        models = spec.get("models", [])
        if not (isinstance(models, list) and all(isinstance(m, str) for m in models)):
            p.add(f"queues.{name}.models", "must be a list of model names", models, "[u2netp]")
            models = []
        for i, model in enumerate(models):
            if model not in MODELS:
                p.add(f"queues.{name}.models.{i}", "unknown model", model,
                      " | ".join(sorted(MODELS)))
        found[str(name)] = tuple(m for m in models if m in MODELS)
    return found


def check_profiles(cluster: Cluster, queues: dict[str, str]) -> None:
    """Raise ConfigError for each profile (name -> its queue) whose queue cluster.yaml does
    not define."""
    problems = [f"profile {name}: At 'queue': not a queue of {cluster.source} (got "
                f"{queue!r}; expected {' | '.join(cluster.queues)})"
                for name, queue in sorted(queues.items()) if queue not in cluster.queues]
    if problems:
        raise ConfigError(problems)
