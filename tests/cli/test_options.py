"""options: logging set-up for a terminal, a plain pipe and journald, and the malloc arenas."""

from __future__ import annotations

import logging

import pytest

from studiocut.cli import options


def _format(record_level: int) -> str:
    handler = logging.getLogger().handlers[-1]
    record = logging.LogRecord("studiocut.hotfolder.daemon", record_level, __file__, 1,
                               "profile %s paused", ("shop",), None)
    return handler.format(record)


def test_under_journald_lines_carry_a_syslog_priority_and_no_timestamp(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNAL_STREAM", "8:12345")
    options.setup_logging(1)
    assert _format(logging.ERROR) == "<3>ERROR studiocut.hotfolder.daemon: profile shop paused"
    assert _format(logging.INFO).startswith("<6>INFO ")


def test_a_plain_pipe_gets_timestamped_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    options.setup_logging(1)
    line = _format(logging.WARNING)
    assert not line.startswith("<")
    assert line.endswith("WARNING studiocut.hotfolder.daemon: profile shop paused")


def test_log_lines_never_carry_raw_control_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    options.setup_logging(1)
    handler = logging.getLogger().handlers[-1]
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "file %s", ("a\x1b[2Jb.jpg",), None)
    assert handler.filter(record)
    assert "\x1b" not in handler.format(record)
