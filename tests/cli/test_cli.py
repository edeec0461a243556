"""The command line's own behaviour: logging set-up for a terminal, a plain pipe and journald."""

from __future__ import annotations

import logging

import pytest

from studiocut.cli import commands as cli


def _format(record_level: int) -> str:
    handler = logging.getLogger().handlers[-1]
    record = logging.LogRecord("studiocut.hotfolder.app", record_level, __file__, 1,
                               "profile %s paused", ("shop",), None)
    return handler.format(record)


def test_under_journald_lines_carry_a_syslog_priority_and_no_timestamp(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNAL_STREAM", "8:12345")
    cli.setup_logging(1)
    assert _format(logging.ERROR) == "<3>ERROR studiocut.hotfolder.app: profile shop paused"
    assert _format(logging.INFO).startswith("<6>INFO ")


def test_a_plain_pipe_gets_timestamped_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    cli.setup_logging(1)
    line = _format(logging.WARNING)
    assert not line.startswith("<")
    assert line.endswith("WARNING studiocut.hotfolder.app: profile shop paused")


def test_log_lines_never_carry_raw_control_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    cli.setup_logging(1)
    handler = logging.getLogger().handlers[-1]
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "file %s", ("a\x1b[2Jb.jpg",), None)
    assert handler.filter(record)
    assert "\x1b" not in handler.format(record)


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2


def test_process_of_a_folder_takes_what_the_daemon_would_and_mirrors_subfolders(
        tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import product_photo

    inbox = tmp_path / "in"
    (inbox / "sub").mkdir(parents=True)
    product_photo().save(inbox / "a.jpg")
    product_photo().save(inbox / "sub" / "b.png")
    product_photo().save(inbox / "c.jpg.tmp", format="JPEG")  # a copy tool's temp name
    product_photo().save(inbox / ".hidden.jpg", format="JPEG")
    (inbox / "link.jpg").symlink_to(inbox / "a.jpg")
    profile = tmp_path / "p.yaml"
    profile.write_text("model: backdrop-key\nkey: {assist: none}\nsquare: false\nreview: false\n")

    code = cli.main(["process", "--profile", str(profile), "--out", str(tmp_path / "out"),
                     "--json", str(inbox)])

    assert code == 0
    written = sorted(p.relative_to(tmp_path / "out").as_posix()
                     for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert written == ["a.jpg", "sub/b.jpg"]


def test_the_command_limits_glibc_to_two_malloc_arenas(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []

    class Libc:
        def mallopt(self, param: int, value: int) -> int:
            calls.append((param, value))
            return 1

    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.setattr(cli.sys, "platform", "linux")
    monkeypatch.setattr(cli.ctypes, "CDLL", lambda name: Libc())
    cli.fewer_malloc_arenas()
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")  # the operator's setting wins
    cli.fewer_malloc_arenas()

    assert calls == [(cli.M_ARENA_MAX, 2)]
