"""The spool: content-addressed inputs, bundles that appear whole, first writer wins."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np

from studiocut.cluster import spool


def test_the_job_key_is_the_input_and_the_canonical_recipe() -> None:
    assert spool.job_key(b"x", {"a": 1, "b": 2}) == spool.job_key(b"x", {"b": 2, "a": 1})
    assert spool.job_key(b"x", {"a": 1}) != spool.job_key(b"x", {"a": 2})
    assert spool.job_key(b"x", {}) != spool.job_key(b"y", {})
    relative = spool.input_path(b"x", ".JPG")
    assert relative.startswith("in/2d/2d711642b726b044") and relative.endswith(".jpg")


def test_inputs_are_copied_once(tmp_path: Path) -> None:
    spool.copy_in(tmp_path, "in/ab/abc.jpg", b"one")
    spool.copy_in(tmp_path, "in/ab/abc.jpg", b"one")

    assert (tmp_path / "in/ab/abc.jpg").read_bytes() == b"one"
    assert not list((tmp_path / "tmp").iterdir())


def test_the_first_bundle_wins_and_the_second_leaves_nothing(tmp_path: Path) -> None:
    layers = (np.zeros((4, 4, 3), np.uint8), np.ones((4, 4), np.float32))
    assert spool.write_bundle(tmp_path, "k", {"status": "ok"}, output=b"first", layers=layers)
    assert not spool.write_bundle(tmp_path, "k", {"status": "ok"}, output=b"second")

    bundle = spool.read_bundle(tmp_path, "k")
    assert bundle is not None and bundle.ok and bundle.output() == b"first"
    found = bundle.layers()
    assert found is not None and found[1].dtype == np.float32
    assert not list((tmp_path / "tmp").iterdir())
    spool.remove(tmp_path, "k", None)
    assert spool.read_bundle(tmp_path, "k") is None


def test_a_failed_bundle_is_never_an_empty_folder(tmp_path: Path) -> None:
    spool.write_bundle(tmp_path, "k", {"status": "failed", "reason": "poison"})

    bundle = spool.read_bundle(tmp_path, "k")
    assert bundle is not None and not bundle.ok and bundle.meta["reason"] == "poison"


def test_sweep_removes_the_temp_files_of_dead_processes_only(tmp_path: Path) -> None:
    (tmp_path / "tmp").mkdir()
    host = socket.gethostname()
    dead = tmp_path / "tmp" / f"k.{host}.999999999.abcd1234"
    alive = tmp_path / "tmp" / f"k.{host}.{os.getpid()}.abcd1234"
    dead.mkdir()
    alive.mkdir()

    assert spool.sweep(tmp_path, max_age=3600) == 1
    assert alive.exists() and not dead.exists()
