"""cluster.yaml and the profile keys that opt into the cluster: every problem at once, with
its key path; the Celery settings the prototype settled."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from studiocut.cluster import config, route
from studiocut.errors import ConfigError
from studiocut.profiles import parse

BASE = {"broker": "redis://127.0.0.1:6379/0", "spool": {"*": "/srv/spool"},
        "queues": {"cutout": {"models": []}}}


def read(**keys: object) -> config.Cluster:
    return config.parse({**BASE, **keys}, source=Path("cluster.yaml"))


def problems(**keys: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config.parse({k: v for k, v in {**BASE, **keys}.items() if v is not None},
                     source=Path("cluster.yaml"))
    return caught.value.problems


def test_defaults_keep_the_visibility_timeout_above_the_time_limit() -> None:
    cluster = read(task_time_limit=60)

    assert cluster.visibility_timeout > 60 and cluster.job_deadline > 60
    assert cluster.spool_root("any-host") == Path("/srv/spool")


def test_a_visibility_timeout_not_above_the_time_limit_is_refused() -> None:
    [problem] = problems(task_time_limit=600, visibility_timeout=600)

    assert "At 'visibility_timeout': must exceed task_time_limit" in problem


def test_every_problem_is_reported_at_once_with_its_key_path() -> None:
    found = problems(broker="http://x", spool={"gpu-1": "relative/path", "win": "S:\\spool"},
                     queues={"cutout": {"models": ["no-such-model"], "modles": []}},
                     task_time_limit=-1, visibility_timeout="soon", colour="red")

    keys = [p.split("At '")[1].split("'")[0] for p in found]
    assert keys == ["colour", "broker", "spool.gpu-1", "queues.cutout.modles",
                    "queues.cutout.models.0", "task_time_limit", "visibility_timeout"]
    assert all(p.startswith("cluster.yaml: At '") for p in found)


def test_a_machine_without_a_spool_entry_is_told_which_name_to_add() -> None:
    cluster = read(spool={"station-a": "/mnt/spool"})

    with pytest.raises(ConfigError, match="no folder for this machine \\(gpu-9\\)"):
        cluster.spool_root("gpu-9")


def test_profile_keys_are_checked_like_every_profile_key() -> None:
    profile = parse({"executor": "cluster", "queue": "cutout", "on_broker_down": "wait"},
                    name="p", source="p.yaml")
    assert (profile.dispatch.remote, profile.dispatch.queue) == (True, "cutout")
    assert parse({}, name="p", source="p.yaml").dispatch.remote is False

    with pytest.raises(ConfigError) as caught:
        parse({"executor": "cluster", "on_broker_down": "later"}, name="p", source="p.yaml")
    assert [p.split("At '")[1].split("'")[0] for p in caught.value.problems] == [
        "on_broker_down", "queue"]


def test_a_cluster_profile_without_the_extra_is_a_configuration_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "celery" else real(name, *a))

    with pytest.raises(ConfigError, match="pip install 'studiocut\\[cluster\\]'"):
        parse({"executor": "cluster", "queue": "cutout"}, name="p", source="p.yaml")


def write_profiles(tmp_path: Path, **keys: object) -> Path:
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "studio.yaml").write_text(yaml.safe_dump(
        {"watch": str(tmp_path / "in"), "output": str(tmp_path / "out"), **keys}))
    return folder


def test_a_station_without_cluster_profiles_gets_no_route(tmp_path: Path) -> None:
    assert route(write_profiles(tmp_path)) is None


def test_a_cluster_profile_needs_cluster_yaml_and_a_queue_it_defines(tmp_path: Path) -> None:
    folder = write_profiles(tmp_path, executor="cluster", queue="hq")
    with pytest.raises(ConfigError, match=r"cluster\.yaml: missing"):
        route(folder)

    (tmp_path / "cluster.yaml").write_text(yaml.safe_dump(BASE))
    with pytest.raises(ConfigError, match="profile studio: At 'queue': not a queue of"):
        route(folder)


def test_the_celery_settings_are_json_only_and_at_least_once() -> None:
    pytest.importorskip("celery")
    from studiocut.cluster import app

    conf = app.make(read(task_time_limit=60)).conf

    assert conf.accept_content == ["json"] and conf.task_serializer == "json"
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1 and conf.task_acks_on_timeout is False
    transport = conf.broker_transport_options
    assert transport["visibility_timeout"] > conf.task_time_limit
    assert transport["unacked_restore_throttle"] == 1
    assert conf.task_ignore_result and conf.broker_connection_max_retries is None


def test_a_worker_refuses_to_start_without_its_models(tmp_path: Path) -> None:
    pytest.importorskip("celery")
    from studiocut.models import predict
    from studiocut.models.registry import MODELS

    missing = [n for n, s in MODELS.items() if s.needs_files and not predict.installed(s)]
    if not missing:
        pytest.skip("every registered model is installed here")
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump({**BASE, "queues": {"cutout": {"models": [missing[0]]}}}))

    done = subprocess.run([sys.executable, "-m", "studiocut", "worker", "--cluster", str(path),
                           "--queue", "cutout"], capture_output=True, text=True, timeout=60)

    assert done.returncode == 2
    assert f"studiocut models pull {missing[0]}" in done.stderr
