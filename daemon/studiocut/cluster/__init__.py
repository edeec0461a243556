"""cluster: several stations, one GPU pool (Celery workers, Redis broker, a shared spool).

``config`` reads cluster.yaml; ``spool`` is the shared folder (content-addressed inputs,
result bundles); ``recipe`` turns a profile's processing settings into a job's JSON and back;
``app`` is the Celery application; ``worker`` runs jobs on a GPU machine; ``station`` is the
executor a station's daemon runs cluster profiles with, ``broker`` what it knows of the
broker. Importing this package imports no Celery: ``route`` does, and only when a profile
asks for the cluster.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from studiocut.cluster import config
from studiocut.errors import ConfigError
from studiocut.profiles import load_dir

if TYPE_CHECKING:
    from studiocut.hotfolder.daemon import Route

__all__ = ["config", "route"]


def route(profiles_dir: Path, cluster_file: Path | None = None) -> Route | None:
    """The daemon's route when a profile of ``profiles_dir`` runs on the cluster (reading
    ``cluster_file``, by default cluster.yaml beside the profiles folder), else None: a
    station without the cluster runs exactly as before. Raise ConfigError."""
    queues = {name: p.dispatch.queue or "" for name, p in load_dir(profiles_dir).items()
              if p.dispatch.remote}
    if not queues:
        return None
    path = cluster_file or config.beside(profiles_dir)
    if not path.is_file():
        raise ConfigError([f"{path}: missing: profile(s) {', '.join(sorted(queues))} say "
                           "executor: cluster, which needs this file (see the README: "
                           "Several stations)"])
    cluster = config.read(path)
    config.check_profiles(cluster, queues)
    from studiocut.cluster import station  # Celery: the cluster extra (checked by the profiles)

    found: Route = station.routing(cluster)
    return found
