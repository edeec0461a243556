"""The live view of ``studiocut run`` on a terminal."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from rich.console import Console

from studiocut.hotfolder import app, console


def _text(daemon: app.Daemon) -> str:
    out = Console(width=120, record=True, color_system=None)
    out.print(console.render(daemon))
    return out.export_text()


def test_the_live_view_shows_the_review_page_address(tmp_path: Path) -> None:
    daemon = app.Daemon(app.Options(profiles_dir=tmp_path, state_dir=tmp_path / "state"))
    assert "review page" not in _text(daemon)  # no page: no line about one

    daemon.page = SimpleNamespace(url="http://127.0.0.1:8770/")  # type: ignore[assignment]

    assert "review page: http://127.0.0.1:8770/" in _text(daemon)
