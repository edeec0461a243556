"""Fixtures of the review tests: a desk on a bench (publishing as results finish, or holding
every result), and the page of a daemon shared by a module's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desk_bench import Bench, make_bench
from review_client import Page, shared_page


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Bench]:
    """Results are published as they finish."""
    made = make_bench(tmp_path, "none")
    yield made
    made.journal.close()


@pytest.fixture
def held(tmp_path: Path) -> Iterator[Bench]:
    """Every result waits for approval."""
    made = make_bench(tmp_path, "all")
    yield made
    made.journal.close()


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    """The review page of one daemon, shared by a module's tests (see review_client)."""
    with shared_page(tmp_path_factory.mktemp("page")) as client:
        yield client
