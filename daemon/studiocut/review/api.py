"""api: the review page's routes: its files and its JSON API, with the live event stream.

The page is a view of the journal; every change is a command handed to the daemon's desk, and
no file path is ever taken from a client. Blocking work (SQLite, images, models) runs in the
thread pool.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from studiocut import __version__, journal
from studiocut.errors import StudiocutError
from studiocut.journal import Job, Journal, Revision
from studiocut.models import predict
from studiocut.review import artefacts
from studiocut.review.desk import Desk
from studiocut.review.lookup import Refused
from studiocut.review.refine import BadEdit

log = logging.getLogger(__name__)

HEARTBEAT = 15.0  # seconds between keep-alive comments on an idle event stream
MAX_BODY = 1_000_000
BULK_ACTIONS = ("approve", "reject", "unreview", "retry", "dismiss", "rerun")


class Daemon(Protocol):
    """What the page reads from the running daemon."""

    started: float

    @property
    def journal(self) -> Journal: ...

    @property
    def desk(self) -> Desk: ...

    def review_status(self) -> list[dict[str, Any]]: ...

    def names(self) -> list[str]: ...


class Json(JSONResponse):
    """JSON with non-ASCII escaped: file names that are not valid UTF-8 (kept as surrogate
    escapes) must not fail a whole list."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False,
                          separators=(",", ":")).encode("ascii")


def plain_text(status: int, text: str) -> Response:
    return Response(text + "\n", status_code=status, media_type="text/plain")


def json_error(status: int, message: str) -> JSONResponse:
    return Json({"error": message}, status_code=status)


def job_json(job: Job, revision: Revision | None, watch: Path | None) -> dict[str, Any]:
    folder = ""
    if watch is not None:
        try:
            folder = job.source.parent.relative_to(watch).as_posix()
        except ValueError:
            folder = ""
    return {
        "id": job.id, "profile": job.profile, "name": job.source.name,
        "folder": "" if folder == "." else folder, "state": job.state, "review": job.review,
        "flags": list(job.flags), "reason": job.reason,
        "message": without_folders(job.message, watch),
        "attempts": job.attempts, "created": job.created, "updated": job.updated,
        "output_name": job.output.name if job.output else None, "published": job.published,
        "revision": revision_json(revision) if revision else None,
    }


def without_folders(message: str | None, *folders: Path | None) -> str | None:
    """A message as the page shows it: the folders' paths cut off the names in it (the page
    never sends paths; the operator knows the folders from the monitor)."""
    if message is None:
        return None
    for folder in folders:
        if folder is not None:
            message = message.replace(os.fsdecode(folder) + os.sep, "")
    return message


def revision_json(revision: Revision) -> dict[str, Any]:
    base = f"/api/v1/media/{revision.id}/"
    return {
        "id": revision.id, "job": revision.job, "number": revision.number,
        "kind": revision.kind, "status": revision.status, "created": revision.created,
        "params": revision.params, "size": list(revision.size),
        "media": {kind: base + kind for kind in artefacts.KINDS},
        "renditions": [rendition_json(base + artefacts.RENDITION + r["name"], r)
                       for r in artefacts.renditions_of(revision)],
    }


def rendition_json(url: str, rendition: dict[str, Any]) -> dict[str, Any]:
    """One of a revision's renditions as the page shows it: its name, output name, format,
    canvas size in px (None where a revision made before it was recorded does not say),
    and its whole file and thumbnail."""
    size = rendition.get("size")
    return {"name": rendition["name"], "output": rendition["output"],
            "format": str(rendition.get("ext", "")).upper(),
            "size": size if isinstance(size, list) and len(size) == 2 else None,
            "url": url, "thumb": f"{url}?max={artefacts.THUMB_SIDE}"}


class Api:
    """The handlers; blocking work (SQLite, images, models) runs in the thread pool."""

    def __init__(self, daemon: Daemon, watch_of: Callable[[str], Path | None],
                 closing: threading.Event) -> None:
        self.daemon = daemon
        self.watch_of = watch_of
        self.closing = closing

    @property
    def journal(self) -> Journal:
        return self.daemon.journal

    def routes(self) -> list[Route]:
        r = Route
        return [
            r("/", self.index), r("/static/{name:path}", self.static),
            r("/api/v1/status", self.status), r("/api/v1/profiles", self.profiles),
            r("/api/v1/jobs", self.jobs), r("/api/v1/jobs/{id:int}", self.job),
            r("/api/v1/jobs/{id:int}/revisions", self.revisions),
            r("/api/v1/jobs/{id:int}/{action}", self.action, methods=["POST"]),
            r("/api/v1/revisions/{id:int}/publish", self.publish, methods=["POST"]),
            r("/api/v1/bulk", self.bulk, methods=["POST"]),
            r("/api/v1/media/{id:int}/{kind}", self.media),
            r("/api/v1/events", self.events), r("/api/v1/events.json", self.events_json),
        ]

    async def index(self, request: Request) -> Response:
        return HTMLResponse(_web_file("index.html").decode())

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        types = {"js": "text/javascript", "css": "text/css"}
        kind = types.get(name.rpartition(".")[2])
        if kind is None or name not in _web_names():
            return plain_text(404, "not found")
        return Response(_web_file(name), media_type=kind,
                        headers={"cache-control": "no-cache"})

    async def status(self, request: Request) -> Response:
        profiles = await run_in_threadpool(self.daemon.review_status)
        for row in profiles:
            watch = Path(row["watch"]) if row.get("watch") else None
            row["last_error"] = without_folders(row.get("last_error"), watch)
        return Json({"daemon": {"version": __version__, "started": self.daemon.started,
                                        "pid": os.getpid()}, "profiles": profiles})

    async def profiles(self, request: Request) -> Response:
        return Json({"profiles": self.daemon.names(),
                             "models": predict.installed_models()})

    async def jobs(self, request: Request) -> Response:
        query = request.query_params
        view = query.get("view", "flagged")
        if view not in journal.VIEWS:
            return json_error(400, f"unknown view {view!r} (known: {', '.join(journal.VIEWS)})")
        try:
            after = int(query.get("cursor") or 0)
            limit = max(1, min(500, int(query.get("limit") or 200)))
        except ValueError:
            return json_error(400, "cursor and limit must be whole numbers")

        def read() -> dict[str, Any]:
            jobs = self.journal.view(view, profile=query.get("profile") or None, after=after,
                                     limit=limit)
            return {"jobs": self._jobs_json(jobs),
                    "next_cursor": str(jobs[-1].id) if len(jobs) == limit else None}

        return Json(await run_in_threadpool(read))

    def _jobs_json(self, jobs: list[Job]) -> list[dict[str, Any]]:
        latest = self.journal.latest_revisions([j.id for j in jobs])
        return [job_json(j, latest.get(j.id), self.watch_of(j.profile)) for j in jobs]

    async def job(self, request: Request) -> Response:
        def read() -> dict[str, Any] | None:
            job = self.journal.job(request.path_params["id"])
            if job is None:
                return None
            body = self._jobs_json([job])[0]
            body["revisions"] = [revision_json(r) for r in self.journal.revisions(job.id)
                                 if r.status != journal.DISCARDED]
            return body

        body = await run_in_threadpool(read)
        return json_error(404, "no such job") if body is None else Json(body)

    async def revisions(self, request: Request) -> Response:
        revisions = await run_in_threadpool(self.journal.revisions, request.path_params["id"])
        return Json({"revisions": [revision_json(r) for r in revisions
                                           if r.status != journal.DISCARDED]})

    async def action(self, request: Request) -> Response:
        job_id, action = request.path_params["id"], request.path_params["action"]
        body = await _body(request)
        if isinstance(body, Response):
            return body
        if action in ("refine", "rerun"):
            return await self._guarded(lambda: revision_json(self._make(job_id, action, body)))
        if action not in ("approve", "reject", "unreview", "retry", "dismiss"):
            return json_error(404, f"unknown action {action!r}")
        return await self._guarded(lambda: self._state_change(job_id, action))

    def _make(self, job_id: int, action: str, body: dict[str, Any]) -> Revision:
        desk = self.daemon.desk
        if action == "rerun":
            profile, model = body.get("profile"), body.get("model")
            if not all(v is None or isinstance(v, str) for v in (profile, model)):
                raise Refused("profile and model must be names", 400)
            return desk.rerun(job_id, profile_name=profile, model_name=model)
        base = body.get("base")
        return desk.refine(job_id, body, base if isinstance(base, int) else None)

    def _state_change(self, job_id: int, action: str) -> dict[str, Any]:
        job = getattr(self.daemon.desk, action)(job_id)
        return self._jobs_json([job])[0]

    async def publish(self, request: Request) -> Response:
        if isinstance(body := await _body(request), Response):
            return body
        revision_id = request.path_params["id"]
        return await self._guarded(
            lambda: self._jobs_json([self.daemon.desk.publish(revision_id)])[0])

    async def bulk(self, request: Request) -> Response:
        body = await _body(request)
        if isinstance(body, Response):
            return body
        ids, action = body.get("ids"), body.get("action")
        if not isinstance(ids, list) or len(ids) > 1000 or not all(
                isinstance(i, int) and not isinstance(i, bool) and abs(i) < 2**63 for i in ids):
            return json_error(400, "ids must be a list of at most 1000 job ids")
        if action not in BULK_ACTIONS:
            return json_error(400, f"action must be one of {', '.join(BULK_ACTIONS)}")

        def run() -> dict[str, Any]:
            results = []
            for job_id in ids:
                try:
                    if action == "rerun":
                        self._make(job_id, "rerun", body)
                    else:
                        self._state_change(job_id, action)
                    results.append({"id": job_id, "ok": True})
                except (Refused, BadEdit, StudiocutError, OSError) as e:
                    results.append({"id": job_id, "ok": False, "error": str(e)})
            return {"results": results}

        return Json(await run_in_threadpool(run))

    async def _guarded(self, work: Callable[[], dict[str, Any]]) -> Response:
        try:
            return Json(await run_in_threadpool(work))
        except Refused as e:
            return json_error(e.status, str(e))
        except BadEdit as e:
            return json_error(400, str(e))
        except (StudiocutError, OSError) as e:
            log.error("review action failed: %s", e)
            return json_error(409, str(e))

    async def media(self, request: Request) -> Response:
        revision = await run_in_threadpool(self.journal.revision, request.path_params["id"])
        if revision is None or revision.status == journal.DISCARDED:
            return json_error(404, "no such revision (purged?)")
        try:
            view = artefacts.parse_view(request.query_params.get("crop"),
                                        request.query_params.get("max"), revision.size)
            data, kind = await run_in_threadpool(self.daemon.desk.media, revision,
                                                 request.path_params["kind"], view)
        except ValueError as e:
            return json_error(400, str(e))
        except Refused as e:
            return json_error(e.status, str(e))
        except FileNotFoundError:
            return json_error(404, "the artefacts of this revision are gone")
        return Response(data, media_type=kind,
                        headers={"cache-control": "private, max-age=31536000, immutable"})

    async def events(self, request: Request) -> Response:
        try:
            after = int(request.headers.get("last-event-id")
                        or request.query_params.get("after") or -1)
        except ValueError:
            after = -1
        if after < 0:  # a new page: only what happens from now on
            after = await run_in_threadpool(self.journal.last_event)
        return StreamingResponse(self._stream(request, after), media_type="text/event-stream",
                                 headers={"x-accel-buffering": "no"})

    async def _stream(self, request: Request, after: int) -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        quiet_since = time.monotonic()
        while not self.closing.is_set():
            found = await run_in_threadpool(self.journal.events, after, 200)
            for event in found:
                after = event.id
                yield f"id: {event.id}\nevent: {event.kind}\ndata: {_event_json(event)}\n\n"
            if found:
                quiet_since = time.monotonic()
                continue
            if time.monotonic() - quiet_since > HEARTBEAT:
                quiet_since = time.monotonic()
                yield ": heartbeat\n\n"
            if await request.is_disconnected():
                return
            for _ in range(5):  # poll the journal twice a second; stop soon when closing
                if self.closing.is_set():
                    return
                await asyncio.sleep(0.1)

    async def events_json(self, request: Request) -> Response:
        """Events after ``after`` (at most 500: ask again from ``last``), or the newest
        ``tail`` ones (a page filling its feed)."""
        try:
            after = int(request.query_params.get("after") or 0)
            tail = int(request.query_params.get("tail") or 0)
        except ValueError:
            return json_error(400, "after and tail must be whole numbers")

        def read() -> tuple[list[journal.Event], int]:
            if tail > 0:
                return self.journal.events(0, min(tail, 500), tail=True), self.journal.last_event()
            found = self.journal.events(after, 500)
            return found, found[-1].id if found else max(after, 0)

        found, last = await run_in_threadpool(read)
        return Json({"events": [json.loads(_event_json(e)) for e in found],
                             "last": last})


def _event_json(event: journal.Event) -> str:
    return json.dumps({"id": event.id, "time": event.time, "kind": event.kind,
                       "job": event.job, "profile": event.profile, "data": event.data})


async def _body(request: Request) -> dict[str, Any] | Response:
    if request.headers.get("content-type", "").split(";")[0].strip() not in (
            "application/json", ""):
        return json_error(415, "send JSON (Content-Type: application/json)")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        return json_error(413, "request too large")
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw, parse_constant=_no_constant)
    except ValueError:
        return json_error(400, "the body is not valid JSON (NaN and Infinity are not numbers)")
    if not isinstance(body, dict):
        return json_error(400, "the body must be a JSON object")
    return body


def _no_constant(name: str) -> None:
    raise ValueError(name)


def _web_names() -> set[str]:
    """The page's files, as paths relative to web/ ("app.css", "views/monitor.js"): the only
    names /static/ serves, so no request can reach outside the folder."""
    names: set[str] = set()
    folders = [(resources.files("studiocut.review").joinpath("web"), "")]
    while folders:
        folder, prefix = folders.pop()
        for entry in folder.iterdir():
            if entry.is_dir():
                folders.append((entry, f"{prefix}{entry.name}/"))
            else:
                names.add(prefix + entry.name)
    return names


def _web_file(name: str) -> bytes:
    return resources.files("studiocut.review").joinpath("web", *name.split("/")).read_bytes()
