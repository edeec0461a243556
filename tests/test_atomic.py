"""atomic: a write appears whole or not at all, and says whose fault a failure is."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from studiocut import atomic
from studiocut.errors import OutputError


@pytest.mark.parametrize("name", ["x" * 250 + ".png", os.fsdecode(b"caf\xe9" * 60 + b".png"),
                                  "é" * 120 + ".png"], ids=["long", "not-utf-8", "multibyte"])
def test_a_temp_name_fits_in_one_file_name_whatever_the_name(tmp_path: Path, name: str) -> None:
    temp = atomic.temp_name(name)

    assert len(os.fsencode(temp)) <= atomic.NAME_MAX
    assert temp.startswith(".") and temp.endswith(atomic.TEMP_SUFFIX)
    (tmp_path / temp).write_bytes(b"fits")  # the file system takes it


def test_a_folder_in_the_way_is_this_outputs_fault_not_the_folders(tmp_path: Path) -> None:
    (tmp_path / "clash.png").mkdir()

    with pytest.raises(OutputError) as refused:
        atomic.write_atomic(tmp_path / "clash.png", b"data", root=tmp_path)

    assert refused.value.reason == "bad-output-name" and not refused.value.environment
    assert [p.name for p in tmp_path.iterdir()] == ["clash.png"]  # no temp left behind


def test_a_name_too_long_for_the_file_system_is_this_outputs_fault(tmp_path: Path) -> None:
    with pytest.raises(OutputError) as refused:
        atomic.write_atomic(tmp_path / ("x" * 300 + ".png"), b"data", root=tmp_path)

    assert refused.value.reason == "bad-output-name" and not refused.value.environment


def test_a_missing_output_folder_is_the_environments_fault(tmp_path: Path) -> None:
    with pytest.raises(OutputError) as refused:
        atomic.write_atomic(tmp_path / "gone" / "a.png", b"data", root=tmp_path / "gone")

    assert refused.value.reason == "output-missing" and refused.value.environment
