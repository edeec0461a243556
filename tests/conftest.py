"""Shared fixtures: a fake model that keeps most tests fast, synthetic photos, and a guard
that fails any test which leaks a thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studiocut.profiles import Profile, parse


class FakeModel:
    """Stands in for a network: the subject is every pixel far from the frame's corner colour.

    Synthetic test photos are a coloured shape on a plain backdrop, so this gives a true mask
    without onnxruntime. ``calls`` counts predictions."""

    name = "fake"

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.calls = 0

    @property
    def input_size(self) -> tuple[int, int]:
        return (self.size, self.size)

    def predict(self, rgb: np.ndarray) -> np.ndarray:
        self.calls += 1
        small = np.asarray(Image.fromarray(rgb).resize((self.size, self.size)), dtype=np.float32)
        key = small[0, 0]
        distance = np.abs(small - key).sum(axis=2)
        return np.asarray(np.clip(distance / 60.0, 0.0, 1.0), dtype=np.float32)


@pytest.fixture
def fake_model() -> FakeModel:
    return FakeModel()


def product_photo(
    size: tuple[int, int] = (400, 300),
    box: tuple[int, int, int, int] = (120, 80, 280, 240),
    subject: tuple[int, int, int] = (200, 30, 30),
    backdrop: tuple[int, int, int] = (235, 235, 235),
) -> Image.Image:
    """A synthetic product shot: a filled rectangle ``box`` on a plain backdrop."""
    w, h = size
    pixels = np.empty((h, w, 3), dtype=np.uint8)
    pixels[:] = backdrop
    x0, y0, x1, y1 = box
    pixels[y0:y1, x0:x1] = subject
    return Image.fromarray(pixels)


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "in" / "shot.jpg"
    path.parent.mkdir()
    product_photo().save(path, quality=95)
    return path


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An existing, empty output folder."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def make_profile(**keys: object) -> Profile:
    """A profile from keys as they would be written in YAML."""
    return parse(keys, name="test", source="<test>")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """cli.main configures the root logger; put it back for the tests that follow."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves a thread running (watchdog's own guard, adapted)."""
    before = set(threading.enumerate())
    yield
    deadline = threading.Event()
    for _ in range(50):
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not leaked:
            return
        deadline.wait(0.1)
    names = ", ".join(t.name for t in leaked)
    pytest.fail(f"test leaked threads: {names}")
