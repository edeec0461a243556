"""The live view of ``studiocut run`` on a terminal, drawn from a status snapshot."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from studiocut import hotfolder
from studiocut.hotfolder import console
from studiocut.hotfolder.status import Live, Status
from studiocut.imaging.pipeline import Outcome


def _text(status: Status) -> str:
    out = Console(width=120, record=True, color_system=None)
    out.print(console.render(status))
    return out.export_text()


def test_the_live_view_shows_the_review_page_address(tmp_path: Path) -> None:
    daemon = hotfolder.Daemon(hotfolder.Options(profiles_dir=tmp_path,
                                                state_dir=tmp_path / "state"))
    assert "review page" not in _text(daemon.status())  # no page: no line about one

    status = Status(None, {}, review="http://127.0.0.1:8770/")

    assert "review page: http://127.0.0.1:8770/" in _text(status)


def test_the_live_view_shows_each_profile_and_the_last_results(tmp_path: Path) -> None:
    live = {"studio": Live("paused", "output folder /out is missing", "/in", "/out",
                           "u2netp", "cpu", 3),
            "web": Live("active", None, "/web", "/web-out", "u2netp", "cpu", 7)}
    recent = [Outcome(Path("/in/a.jpg"), Path("/out/a.png"), 1.25),
              Outcome(Path("/in/b.jpg"), None, 0.5, "truncated", "/in/b.jpg: ends early")]

    text = _text(Status(None, live, recent=recent))

    assert "paused: output folder /out is missing" in text
    assert "active" in text and "/web" in text
    assert "a.jpg -> /out/a.png" in text and "1.25" in text
    assert "b.jpg: /in/b.jpg: ends early [truncated]" in text
