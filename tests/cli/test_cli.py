"""The command line as a whole: every command's parser assembled, usage errors exit 2, and
``python -m studiocut`` runs it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from studiocut import cli


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2


def test_help_lists_every_command_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])

    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    names = ["process", "check", "run", "review", "status", "models", "doctor", "service"]
    positions = [out.index(f"\n    {name} ") for name in names]
    assert positions == sorted(positions)


def test_python_dash_m_studiocut_runs_the_command_line() -> None:
    result = subprocess.run([sys.executable, "-m", "studiocut", "--version"],
                            capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("studiocut ")
