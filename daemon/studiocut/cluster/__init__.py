"""cluster: several stations, one GPU pool (Celery workers, Redis broker, a shared spool).

``config`` reads cluster.yaml; ``spool`` is the shared folder (content-addressed inputs,
result bundles); ``recipe`` turns a profile's processing settings into a job's JSON and back;
``app`` is the Celery application; ``worker`` runs jobs on a GPU machine; ``station`` is the
executor a station's daemon runs cluster profiles with, ``broker`` what it knows of the
broker. Importing this package imports no Celery: ``route`` does, and only when a profile
asks for the cluster.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from studiocut.cluster import config
from studiocut.errors import ConfigError
from studiocut.profiles import Profile, load_dir

if TYPE_CHECKING:
    from studiocut.hotfolder.daemon import Route

__all__ = ["check", "config", "route"]


def check(profiles: Iterable[Profile], profiles_dir: Path,
          cluster_file: Path | None = None) -> config.Cluster | None:
    """The cluster the ``profiles`` that say ``executor: cluster`` run on, read from
    ``cluster_file`` (default: cluster.yaml beside ``profiles_dir``) and checked against their
    queues; None when none of them does. Raise ConfigError naming every problem."""
    queues = {p.name: p.dispatch.queue or "" for p in profiles if p.dispatch.remote}
    if not queues:
        return None
    path = cluster_file or config.beside(profiles_dir)
    if not path.is_file():
        raise ConfigError([f"{path}: missing: profile(s) {', '.join(sorted(queues))} say "
                           "executor: cluster, which needs this file (see the README: "
                           "Several stations)"])
    cluster = config.read(path)
    config.check_profiles(cluster, queues)
    return cluster


def route(profiles_dir: Path, cluster_file: Path | None = None) -> Route | None:
    """The daemon's route when a profile of ``profiles_dir`` runs on the cluster (reading
    ``cluster_file``, by default cluster.yaml beside the profiles folder), else None: a
    station without the cluster runs exactly as before. Raise ConfigError."""
    cluster = check(load_dir(profiles_dir).values(), profiles_dir, cluster_file)
    if cluster is None:
        return None
    from studiocut.cluster import station  # Celery: the cluster extra (checked by the profiles)

    found: Route = station.routing(cluster)
    return found
