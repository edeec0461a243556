"""A signed-in client of a daemon's review page, and the daemon most review page tests
share."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from daemon_harness import Daemon, shoot

WEB = Path(__file__).resolve().parents[1] / "daemon" / "studiocut" / "review" / "web"
SLOWPOKE = "slowpoke"  # photos with this in their name wait 3 s after being claimed


class Page:
    """A signed-in client of one daemon's review page, with journal look-ups."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.url = daemon.review_url()
        self.secret = daemon.token()
        self.port = httpx.URL(self.url).port
        self.origin = f"http://127.0.0.1:{self.port}"
        self.client = httpx.Client(base_url=self.url, timeout=30,
                                   headers={"Authorization": f"Bearer {self.secret}"})

    def close(self) -> None:
        self.client.close()

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def post(self, path: str, body: object = None, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, json={} if body is None else body, **kwargs)

    def ok(self, response: httpx.Response) -> Any:
        assert response.status_code == 200, (response.status_code, response.text)
        return response.json()

    # ------------------------------------------------------------------ journal

    def row(self, name: str) -> dict[str, Any]:
        """The journal row of the one job whose source file is called ``name``."""
        found = [j for j in self.daemon.jobs() if Path(j["source"]).name == name]
        assert len(found) == 1, found
        return found[0]

    def revisions(self, job_id: int) -> list[dict[str, Any]]:
        db = sqlite3.connect(f"file:{self.daemon.state / 'journal.db'}?mode=ro", uri=True,
                             timeout=10)
        try:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM revisions WHERE job=? ORDER BY number",
                              (job_id,)).fetchall()
        finally:
            db.close()
        return [dict(r) for r in rows]

    # ------------------------------------------------------------------ photos

    def drop(self, profile: str, name: str, *, folder: str = "", state: str = "done",
             **shot: Any) -> dict[str, Any]:
        """Shoot ``name`` into the profile's watched folder, wait for ``state`` and return
        the job as the API gives it (with its revisions)."""
        path = self.daemon.inbox / profile / folder / name
        shoot(path, **shot)
        self.daemon.wait_states({name: state})
        return self.job(self.row(name)["id"])

    def job(self, job_id: int) -> dict[str, Any]:
        return self.ok(self.get(f"/api/v1/jobs/{job_id}"))

    def media(self, url: str, **params: str) -> bytes:
        response = self.get(url, params=params)
        assert response.status_code == 200, (url, response.text)
        return response.content

    def output(self, profile: str, folder: str, name: str) -> Path:
        return self.daemon.outbox / profile / folder / name


def profile_keys(root: Path, name: str, **keys: Any) -> dict[str, Any]:
    return {"watch": str(root / "in" / name), "output": str(root / "out" / name), **keys}


def assert_hardened(response: httpx.Response) -> None:
    headers = response.headers
    assert "access-control-allow-origin" not in headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


@contextmanager
def shared_page(root: Path) -> Iterator[Page]:
    """One daemon for most tests: ``held`` holds every result, ``flagged`` flags every result
    (subject too small) but publishes it, ``other`` is a second profile to re-run with (WebP
    output), ``listing`` is only for the listing test (holds everything, no retries)."""
    daemon = Daemon(root, {
        "held": profile_keys(root, "held", review={"hold": "all"}),
        "flagged": profile_keys(root, "flagged", review={"min_area": 0.99}),
        "other": profile_keys(root, "other", format="webp", quality=90),
        "listing": profile_keys(root, "listing", review={"hold": "all"}, retries=0),
    }, faults=f"after-claim:sleep=3:{SLOWPOKE}", args=["--workers", "2"])
    daemon.start()
    client = Page(daemon)
    try:
        yield client
    finally:
        client.close()
        if daemon.stop() != 0:
            daemon.kill9()
