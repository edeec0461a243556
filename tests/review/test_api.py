"""api: the review page's routes against a real ``studiocut run`` subprocess, driven with httpx
as the page would: its files, listing, media, review actions, revisions, bulk actions,
events, atomic publishing and crash recovery of a publish.

Most tests share one daemon (module scope); each works on photos of its own, in a subfolder
of its own, so they stay independent. Every assertion that a change happened looks at the
output folder and the journal, not only at the HTTP answer."""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from daemon_harness import Daemon, shoot
from review_client import SLOWPOKE, WEB, Page, assert_hardened
from studiocut.review import api


def image_of(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def alpha_of(data: bytes) -> np.ndarray:
    image = image_of(data)
    band = image.getchannel("A") if image.mode == "RGBA" else image.convert("L")
    return np.asarray(band)


def refine_body() -> dict[str, Any]:
    """A keep point on the subject, a remove stroke straight across it (the subject of a
    160 x 120 shot fills x 40..120, y 30..90) and edge settings."""
    return {"points": [{"x": 80, "y": 40, "label": 1}],
            "strokes": [{"mode": "remove", "radius": 6, "points": [[20, 60], [140, 60]]}],
            "edge": {"shift": 0, "feather": 1, "matting": False, "decontaminate": True}}


def read_events(lines: Iterator[str], until: Any, timeout: float = 20.0) -> list[dict[str, Any]]:
    """Server-sent events from ``lines`` (as {"id", "event", "data"}) up to and including the
    first for which ``until`` is true."""
    events: list[dict[str, Any]] = []
    fields: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    for line in lines:
        if time.monotonic() > deadline:
            break
        if line == "":
            if "event" in fields:
                event = {"id": int(fields["id"]), "event": fields["event"],
                         "data": json.loads(fields["data"])}
                events.append(event)
                if until(event):
                    return events
            fields = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(":")
            fields[key] = value[1:] if value.startswith(" ") else value
    raise AssertionError(f"the stream ended or stalled before the awaited event: {events}")


# --------------------------------------------------------------------------- files


def test_static_files_are_served_and_nothing_else(page: Page) -> None:
    """The page's files; test_static.py walks every module and sends escaping paths raw."""
    for name, kind in (("main.js", "text/javascript"), ("app.css", "text/css")):
        response = page.get(f"/static/{name}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(kind)
        assert response.content == (WEB / name).read_bytes()
        assert_hardened(response)
    for name in ("index.html", "nothing.js", "..%2fserver.py", "%2e%2e%2fserver.py"):
        assert page.get(f"/static/{name}").status_code == 404, name


# --------------------------------------------------------------------------- listing


def ids(jobs: list[dict[str, Any]]) -> list[int]:
    return [j["id"] for j in jobs]


def test_status_and_views_list_exactly_the_jobs_of_each_state(page: Page) -> None:
    shoot(page.daemon.inbox / "listing" / f"{SLOWPOKE}.jpg")
    page.daemon.wait_states({f"{SLOWPOKE}.jpg": "processing"}, timeout=10)
    queue = page.ok(page.get("/api/v1/jobs", params={"view": "queue", "profile": "listing"}))
    assert [j["name"] for j in queue["jobs"]] == [f"{SLOWPOKE}.jpg"]
    (row,) = [p for p in page.ok(page.get("/api/v1/status"))["profiles"]
              if p["name"] == "listing"]
    assert row["processing"] == [f"{SLOWPOKE}.jpg"]
    slow = queue["jobs"][0]["id"]
    refused = page.post(f"/api/v1/jobs/{slow}/approve")
    assert refused.status_code == 409 and "error" in refused.json()
    assert page.post(f"/api/v1/jobs/{slow}/reject").status_code == 409

    good = [page.drop("listing", f"list{i}.jpg") for i in range(3)]
    (page.daemon.inbox / "listing" / "broken.jpg").write_text("<html>not a photo</html>")
    page.daemon.wait_states({"broken.jpg": "failed", f"{SLOWPOKE}.jpg": "done"})
    broken, slow_job = page.row("broken.jpg")["id"], page.job(slow)
    assert page.post(f"/api/v1/jobs/{broken}/approve").status_code == 409
    assert page.post(f"/api/v1/jobs/{broken}/reject").status_code == 409
    assert page.post("/api/v1/jobs/999999/approve").status_code == 404
    approved, rejected, held = ids(good)
    page.ok(page.post(f"/api/v1/jobs/{approved}/approve"))
    page.ok(page.post(f"/api/v1/jobs/{rejected}/reject"))

    def view(name: str) -> list[int]:
        return ids(page.ok(page.get("/api/v1/jobs", params={"view": name,
                                                            "profile": "listing"}))["jobs"])

    assert view("all") == [slow, approved, rejected, held]
    assert view("flagged") == [slow, held]
    assert view("held") == [slow, held]
    assert view("approved") == [approved]
    assert view("rejected") == [rejected]
    assert view("failed") == [broken]
    assert view("queue") == []
    everywhere = ids(page.ok(page.get("/api/v1/jobs", params={"view": "all"}))["jobs"])
    assert set(everywhere) >= {slow, approved, rejected, held}
    assert everywhere == sorted(everywhere)

    (row,) = [p for p in page.ok(page.get("/api/v1/status"))["profiles"]
              if p["name"] == "listing"]
    assert row["state"] == "active" and row["hold"] == "all"
    assert row["queued"] == 0 and row["processing"] == []
    assert row["done_today"] == 4 and row["failed_today"] == 1
    assert row["flagged_today"] == 2  # the held ones still wait for a look
    assert row["oldest_pending_s"] is None
    assert "broken.jpg" in row["last_error"]
    assert slow_job["state"] == "done" and slow_job["review"] == "held"

    pages, cursor = [], None
    while True:
        params = {"view": "all", "profile": "listing", "limit": "1"}
        if cursor is not None:
            params["cursor"] = cursor
        answer = page.ok(page.get("/api/v1/jobs", params=params))
        assert len(answer["jobs"]) <= 1
        pages += ids(answer["jobs"])
        cursor = answer["next_cursor"]
        if cursor is None:
            break
    assert pages == [slow, approved, rejected, held]

    for bad in ({"view": "everything"}, {"view": "all", "limit": "ten"},
                {"view": "all", "cursor": "x"}):
        response = page.get("/api/v1/jobs", params=bad)
        assert response.status_code == 400 and "error" in response.json()
    assert page.get("/api/v1/jobs/999999").status_code == 404


def test_job_lists_its_revisions_with_media_urls(page: Page) -> None:
    job = page.drop("flagged", "detail.jpg", folder="detail")
    assert job["name"] == "detail.jpg" and job["folder"] == "detail"
    assert job["profile"] == "flagged" and job["state"] == "done"
    assert job["review"] == "flagged" and any("too small" in f for f in job["flags"])
    assert job["output_name"] == "detail.png" and job["published"] == 1
    (revision,) = job["revisions"]
    assert revision["number"] == 1 and revision["kind"] == "auto"
    assert revision["status"] == "published" and revision["size"] == [160, 120]
    assert revision["job"] == job["id"] and job["revision"] == revision
    assert revision["media"] == {kind: f"/api/v1/media/{revision['id']}/{kind}" for kind in
                                 ("thumb", "cutout", "mask", "overlay", "before", "result")}
    listed = page.ok(page.get(f"/api/v1/jobs/{job['id']}/revisions"))["revisions"]
    assert listed == [revision]
    profiles = page.ok(page.get("/api/v1/profiles"))
    assert set(profiles["profiles"]) == {"held", "flagged", "other", "listing"}


def test_every_media_kind_is_an_image_of_the_right_type_and_size(page: Page) -> None:
    job = page.drop("flagged", "media.jpg", folder="media")
    media = job["revision"]["media"]
    expected = {"thumb": ("image/png", "RGBA"), "cutout": ("image/png", "RGBA"),
                "mask": ("image/png", "L"), "overlay": ("image/jpeg", "RGB"),
                "before": ("image/jpeg", "RGB"), "result": ("image/png", "RGBA")}
    for kind, (content_type, mode) in expected.items():
        response = page.get(media[kind])
        assert response.status_code == 200, (kind, response.text)
        assert response.headers["content-type"] == content_type, kind
        assert "immutable" in response.headers["cache-control"], kind
        assert_hardened(response)
        image = image_of(response.content)
        assert image.mode == mode, kind
        assert image.size == (160, 120), kind
        cropped = image_of(page.media(media[kind], crop="10,20,30,40"))
        assert cropped.size == (30, 40), kind
        smaller = image_of(page.media(media[kind], max="64"))
        assert smaller.size == (64, 48), kind
    output = page.output("flagged", "media", "media.png")
    assert page.media(media["result"]) == output.read_bytes()
    mask = alpha_of(page.media(media["mask"]))
    assert mask[60, 80] > 240 and mask[5, 5] < 15  # subject kept, backdrop gone
    cutout = alpha_of(page.media(media["cutout"]))
    assert np.abs(cutout.astype(int) - mask.astype(int)).max() <= 1
    corner = alpha_of(page.media(media["mask"], crop="150,110,30,30"))
    assert corner.shape == (10, 10)  # a crop past the edge is clipped to the canvas
    overlay = np.asarray(image_of(page.media(media["overlay"])), dtype=int)
    assert overlay[5, 5, 0] - overlay[5, 5, 1] > 60  # the removed backdrop is tinted red


def test_bad_media_requests_are_refused(page: Page) -> None:
    job = page.drop("flagged", "badmedia.jpg", folder="badmedia")
    cutout = job["revision"]["media"]["cutout"]
    for params in ({"crop": "a,b,c,d"}, {"crop": "1,2,3"}, {"crop": "0,0,0,10"},
                   {"crop": "10,10,-5,5"}, {"crop": "inf,0,10,10"}, {"max": "5"},
                   {"max": "big"}):
        response = page.get(cutout, params=params)
        assert response.status_code == 400, params
        assert "error" in response.json()
    assert page.get(f"/api/v1/media/{job['revision']['id']}/source").status_code == 400
    assert page.get("/api/v1/media/999999/cutout").status_code == 404
    huge = 2**70  # beyond SQLite's integers: a clean 404 or 400, never a 500
    assert page.get(f"/api/v1/jobs/{huge}").status_code == 404
    assert page.post(f"/api/v1/jobs/{huge}/approve").status_code == 404
    assert page.get("/api/v1/jobs", params={"cursor": str(huge)}).status_code == 400
    assert page.post("/api/v1/bulk", {"ids": [huge], "action": "approve"}).status_code == 400
    odd = page.client.get("/api/v1/status", headers={"Authorization": b"Bearer caf\xc3\xa9"})
    assert odd.status_code == 401


def test_a_file_name_that_is_not_utf8_does_not_break_a_list() -> None:
    name = os.fsdecode(b"caf\xe9.jpg")

    body = json.loads(api.Json({"name": name}).body)

    assert body["name"].startswith("caf") and body["name"].endswith(".jpg")


def test_a_revision_lists_each_rendition_with_its_format_size_and_thumbnail() -> None:
    from studiocut.journal import READY, Revision

    revision = Revision(id=5, job=2, number=1, kind="auto", status=READY, created=0.0,
                        size=(400, 300), ext="jpg", folder="2/x", params={"renditions": [
                            {"name": "white", "ext": "jpg", "file": "result.jpg",
                             "output": "a.jpg", "size": [400, 300]},
                            {"name": "cutout", "ext": "png", "file": "rendition-1.png",
                             "output": "a.png"}]})  # made before sizes were recorded

    assert api.revision_json(revision)["renditions"] == [
        {"name": "white", "output": "a.jpg", "format": "JPG", "size": [400, 300],
         "url": "/api/v1/media/5/rendition-white",
         "thumb": "/api/v1/media/5/rendition-white?max=320"},
        {"name": "cutout", "output": "a.png", "format": "PNG", "size": None,
         "url": "/api/v1/media/5/rendition-cutout",
         "thumb": "/api/v1/media/5/rendition-cutout?max=320"}]


# --------------------------------------------------------------------------- holding


def test_held_result_is_published_only_when_approved_and_undo_withdraws_it(
        page: Page) -> None:
    job = page.drop("held", "hold.jpg", folder="hold")
    folder = page.daemon.outbox / "held" / "hold"
    output = folder / "hold.png"
    assert job["review"] == "held" and job["published"] is None
    assert not folder.exists() or list(folder.iterdir()) == []
    result = page.media(job["revision"]["media"]["result"])

    approved = page.ok(page.post(f"/api/v1/jobs/{job['id']}/approve"))
    assert approved["review"] == "approved" and approved["published"] == 1
    assert output.read_bytes() == result
    row = page.row("hold.jpg")
    assert row["review"] == "approved" and row["published"] == 1 and row["publishing"] is None
    assert [r["status"] for r in page.revisions(job["id"])] == ["published"]

    undone = page.ok(page.post(f"/api/v1/jobs/{job['id']}/unreview"))
    assert undone["review"] == "held" and undone["published"] is None
    assert not output.exists()
    assert page.row("hold.jpg")["published"] is None
    assert [r["status"] for r in page.revisions(job["id"])] == ["ready"]
    nothing = page.post(f"/api/v1/jobs/{job['id']}/unreview")
    assert nothing.status_code == 409 and "nothing to undo" in nothing.json()["error"]

    page.ok(page.post(f"/api/v1/jobs/{job['id']}/approve"))
    assert output.read_bytes() == result
    rejected = page.ok(page.post(f"/api/v1/jobs/{job['id']}/reject"))
    assert rejected["review"] == "rejected" and rejected["published"] is None
    assert not output.exists()
    assert page.row("hold.jpg")["review"] == "rejected"

    back = page.ok(page.post(f"/api/v1/jobs/{job['id']}/unreview"))
    assert back["review"] == "approved" and back["published"] == 1
    assert output.read_bytes() == result
    assert sorted(p.name for p in folder.iterdir()) == ["hold.png"]  # no temp files left


def test_rejecting_a_flagged_result_withdraws_its_output_and_review_copy(page: Page) -> None:
    job = page.drop("flagged", "copy.jpg", folder="copy")
    output = page.output("flagged", "copy", "copy.png")
    copy = page.daemon.outbox / "flagged-review" / "copy" / "copy.png"
    assert output.is_file() and copy.is_file()
    page.ok(page.post(f"/api/v1/jobs/{job['id']}/reject"))
    assert not output.exists()
    assert not copy.exists() and not copy.with_name("copy.png.review.json").exists()


# --------------------------------------------------------------------------- revisions


def test_refine_makes_a_candidate_that_can_be_published_and_reverted(page: Page) -> None:
    job = page.drop("flagged", "refine.jpg", folder="refine")
    output = page.output("flagged", "refine", "refine.png")
    first = job["revision"]
    first_bytes = page.media(first["media"]["result"])
    assert output.read_bytes() == first_bytes

    second = page.ok(page.post(f"/api/v1/jobs/{job['id']}/refine", refine_body()))
    assert second["number"] == 2 and second["kind"] == "refine"
    assert second["status"] == "ready" and second["size"] == [160, 120]
    assert second["params"]["base"] == 1 and second["params"]["strokes"]
    assert output.read_bytes() == first_bytes  # a candidate is not published
    assert page.row("refine.jpg")["published"] == 1

    before = alpha_of(page.media(first["media"]["mask"]))
    after = alpha_of(page.media(second["media"]["mask"]))
    assert (before[57:64, 45:116] > 200).all()  # the subject was there ...
    assert (after[57:64, 45:116] == 0).all()  # ... and the remove stroke cut it out
    assert after[40, 80] > 200  # the keep point's part stays
    assert (alpha_of(page.media(second["media"]["cutout"]))[57:64, 45:116] == 0).all()
    second_bytes = page.media(second["media"]["result"])
    assert second_bytes != first_bytes
    assert (alpha_of(second_bytes)[57:64, 45:116] == 0).all()

    published = page.ok(page.post(f"/api/v1/revisions/{second['id']}/publish"))
    assert published["published"] == 2 and published["review"] == "approved"
    assert output.read_bytes() == second_bytes
    row = page.row("refine.jpg")
    assert row["published"] == 2 and row["publishing"] is None
    assert [r["status"] for r in page.revisions(job["id"])] == ["ready", "published"]

    reverted = page.ok(page.post(f"/api/v1/revisions/{first['id']}/publish"))
    assert reverted["published"] == 1
    assert output.read_bytes() == first_bytes
    assert [r["status"] for r in page.revisions(job["id"])] == ["published", "ready"]

    third = page.ok(page.post(f"/api/v1/jobs/{job['id']}/refine",
                              {"base": 2, "edge": {"shift": 2}}))
    assert third["number"] == 3 and third["params"]["base"] == 2
    grown = alpha_of(page.media(third["media"]["mask"]))
    assert (grown > 0).sum() > (after > 0).sum()


def test_bad_refine_requests_are_refused_without_a_new_revision(page: Page) -> None:
    job = page.drop("flagged", "badrefine.jpg", folder="badrefine")
    refine = f"/api/v1/jobs/{job['id']}/refine"
    for body in ({"points": [{"x": 500, "y": 10, "label": 1}]},
                 {"points": [{"x": 10, "y": 10, "label": 5}]},
                 {"points": [{"x": "ten", "y": 10, "label": 1}]},
                 {"strokes": [{"mode": "smudge", "radius": 5, "points": [[1, 1]]}]},
                 {"box": [1, 2, 3]}, {"edge": {"shift": 999}}, {"base": 7}, [1, 2]):
        response = page.post(refine, body)
        assert response.status_code in (400, 404), body
        assert isinstance(response.json()["error"], str), body
    for raw in (b"{not json", b'{"edge": {"feather": 1}, "note": NaN}',
                b'{"edge": {"shift": Infinity}}'):
        garbage = page.client.post(refine, content=raw,
                                   headers={"Content-Type": "application/json"})
        assert garbage.status_code == 400 and "error" in garbage.json(), raw
    for body in ({"profile": ["x"]}, {"model": 5}):
        assert page.post(f"/api/v1/jobs/{job['id']}/rerun", body).status_code == 400
    assert page.ok(page.get(f"/api/v1/jobs/{job['id']}"))["id"] == job["id"]
    text = page.client.post(refine, content=b"{}", headers={"Content-Type": "text/plain"})
    assert text.status_code == 415 and "error" in text.json()
    form = page.client.post(refine, data={"points": "1"})
    assert form.status_code == 415
    assert len(page.revisions(job["id"])) == 1
    missing = page.post("/api/v1/jobs/999999/refine", {"points": []})
    assert missing.status_code == 404 and "error" in missing.json()
    assert page.post("/api/v1/revisions/999999/publish").status_code == 404


def test_rerun_with_another_profile_makes_a_candidate_in_its_format(page: Page) -> None:
    job = page.drop("flagged", "rerun.jpg", folder="rerun")
    png = page.output("flagged", "rerun", "rerun.png")
    webp = png.with_suffix(".webp")
    first_bytes = png.read_bytes()

    rerun = page.ok(page.post(f"/api/v1/jobs/{job['id']}/rerun", {"profile": "other"}))
    assert rerun["kind"] == "rerun" and rerun["number"] == 2 and rerun["status"] == "ready"
    assert rerun["params"]["profile"] == "other"
    assert rerun["params"]["model"] == "backdrop-key"
    assert png.read_bytes() == first_bytes and not webp.exists()
    response = page.get(rerun["media"]["result"])
    assert response.headers["content-type"] == "image/webp"
    assert image_of(response.content).format == "WEBP"

    for body in ({"profile": "nope"}, {"model": "no-such-model"}):
        refused = page.post(f"/api/v1/jobs/{job['id']}/rerun", body)
        assert refused.status_code == 400, body
        assert "error" in refused.json()
    assert "nope" in page.post(f"/api/v1/jobs/{job['id']}/rerun",
                               {"profile": "nope"}).json()["error"]
    assert len(page.revisions(job["id"])) == 2

    # a refine of the re-run keeps its settings (here its WebP format), not the job's own
    refined = page.ok(page.post(f"/api/v1/jobs/{job['id']}/refine",
                                {"base": rerun["number"], "edge": {"shift": -1}}))
    assert (refined["params"]["profile"], refined["params"]["base"]) == ("other", 2)
    assert image_of(page.get(refined["media"]["result"]).content).format == "WEBP"
    assert len(page.revisions(job["id"])) == 3

    page.ok(page.post(f"/api/v1/revisions/{rerun['id']}/publish"))
    assert webp.read_bytes() == response.content
    assert not png.exists()  # one output per photo, whatever its format
    page.ok(page.post(f"/api/v1/revisions/{job['revision']['id']}/publish"))
    assert png.read_bytes() == first_bytes
    assert not webp.exists()


# --------------------------------------------------------------------------- failures


def test_failed_photo_can_be_retried_and_dismissed(page: Page) -> None:
    source = page.daemon.inbox / "held" / "failing" / "garbage.jpg"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    page.daemon.wait_states({"garbage.jpg": "failed"})
    job_id = page.row("garbage.jpg")["id"]

    def failed() -> list[int]:
        return ids(page.ok(page.get("/api/v1/jobs", params={"view": "failed",
                                                            "profile": "held"}))["jobs"])

    assert job_id in failed()
    listed = page.job(job_id)
    assert listed["state"] == "failed" and listed["reason"] and listed["message"]
    # names relative to the watched folder: the page never sends paths
    assert listed["message"].startswith("failing/garbage.jpg: ")
    assert str(page.daemon.root) not in listed["message"]
    (row,) = [r for r in page.ok(page.get("/api/v1/status"))["profiles"] if r["name"] == "held"]
    assert row["last_error"].startswith("failing/garbage.jpg: ")
    assert listed["revision"] is None and listed["revisions"] == []
    last = page.ok(page.get("/api/v1/events.json", params={"after": 0}))["last"]
    while more := page.ok(page.get("/api/v1/events.json", params={"after": last}))["events"]:
        last = more[-1]["id"]

    retried = page.ok(page.post(f"/api/v1/jobs/{job_id}/retry"))
    assert retried["state"] in ("pending", "processing") and retried["reason"] is None
    page.daemon.wait_for(lambda: page.row("garbage.jpg")["state"] == "failed"
                         and page.row("garbage.jpg")["attempts"] >= 1, 30, "the retry")
    events = [e for e in page.ok(page.get("/api/v1/events.json", params={"after": last}))[
        "events"] if e["job"] == job_id]
    kinds = [e["kind"] for e in events]
    assert kinds[:3] == ["queued", "processing", "failed"], kinds
    assert events[0]["data"]["retry"] is True
    assert job_id in failed()

    dismissed = page.ok(page.post(f"/api/v1/jobs/{job_id}/dismiss"))
    assert dismissed["review"] == "dismissed" and dismissed["state"] == "failed"
    assert job_id not in failed()
    assert page.row("garbage.jpg")["review"] == "dismissed"

    done = page.drop("held", "notfailed.jpg", folder="failing")
    for action in ("retry", "dismiss"):
        refused = page.post(f"/api/v1/jobs/{done['id']}/{action}")
        assert refused.status_code == 409 and "error" in refused.json()
    assert page.row("notfailed.jpg")["state"] == "done"


# --------------------------------------------------------------------------- bulk


def test_bulk_reject_withdraws_every_output_and_reports_bad_ids_alone(page: Page) -> None:
    jobs = [page.drop("flagged", f"bulk{i}.jpg", folder="bulk") for i in range(3)]
    outputs = [page.output("flagged", "bulk", f"bulk{i}.png") for i in range(3)]
    page.ok(page.post(f"/api/v1/jobs/{jobs[0]['id']}/approve"))  # approved or flagged alike
    assert all(p.is_file() for p in outputs)
    results = page.ok(page.post("/api/v1/bulk", {"ids": ids(jobs), "action": "reject"}))
    assert [(r["id"], r["ok"]) for r in results["results"]] == [(j["id"], True) for j in jobs]
    assert not any(p.exists() for p in outputs)
    assert [page.row(f"bulk{i}.jpg")["review"] for i in range(3)] == ["rejected"] * 3

    mixed = page.ok(page.post("/api/v1/bulk", {"ids": [jobs[0]["id"], 999999, jobs[1]["id"]],
                                               "action": "approve"}))["results"]
    assert [(r["id"], r["ok"]) for r in mixed] == [(jobs[0]["id"], True), (999999, False),
                                                  (jobs[1]["id"], True)]
    assert "999999" in mixed[1]["error"]
    assert outputs[0].is_file() and outputs[1].is_file() and not outputs[2].exists()

    for body in ({"ids": "all", "action": "reject"}, {"ids": [1], "action": "explode"},
                 {"ids": [True], "action": "reject"}, {"action": "reject"}):
        response = page.post("/api/v1/bulk", body)
        assert response.status_code == 400, body
        assert "error" in response.json()
    assert not outputs[2].exists()


# --------------------------------------------------------------------------- events


def test_events_json_lists_a_shots_lifecycle_in_order(page: Page) -> None:
    job = page.drop("flagged", "lifecycle.jpg", folder="events")
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        answer = page.ok(page.get("/api/v1/events.json", params={"after": after}))
        if not answer["events"]:
            assert answer["last"] == after
            break
        assert answer["last"] == answer["events"][-1]["id"]
        events += answer["events"]
        after = answer["last"]
    assert [e["id"] for e in events] == sorted({e["id"] for e in events})
    mine = [e for e in events if e["job"] == job["id"]]
    kinds = [e["kind"] for e in mine]
    assert kinds[0] == "queued" and kinds[-1] == "done"
    assert kinds.index("processing") < kinds.index("revision") < kinds.index("done")
    assert all(e["profile"] == "flagged" for e in mine)
    assert set(mine[0]) == {"id", "time", "kind", "job", "profile", "data"}
    assert page.get("/api/v1/events.json", params={"after": "x"}).status_code == 400


def test_event_stream_delivers_live_events_and_resumes_after_last_event_id(
        page: Page) -> None:
    with httpx.Client(base_url=page.url, headers={
            "Authorization": f"Bearer {page.secret}"}, timeout=httpx.Timeout(20.0)) as stream:
        with stream.stream("GET", "/api/v1/events") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["cache-control"] == "no-store"
            lines = response.iter_lines()
            assert next(lines) == "retry: 2000"
            shoot(page.daemon.inbox / "flagged" / "events" / "live.jpg")
            live = read_events(lines, lambda e: e["event"] == "done")
        job_id = page.row("live.jpg")["id"]
        assert live[0]["event"] == "queued" and live[0]["data"]["job"] == job_id
        assert live[-1]["data"]["job"] == job_id and live[-1]["data"]["kind"] == "done"
        assert [e["event"] for e in live] == [e["data"]["kind"] for e in live]
        assert all(e["id"] == e["data"]["id"] for e in live)
        assert [e["id"] for e in live] == sorted(e["id"] for e in live)

        resume = live[0]["id"]
        with stream.stream("GET", "/api/v1/events",
                           headers={"Last-Event-ID": str(resume)}) as response:
            replay = read_events(response.iter_lines(),
                                 lambda e: e["id"] == live[-1]["id"], timeout=10)
        assert [(e["id"], e["event"]) for e in replay] == [(e["id"], e["event"])
                                                           for e in live[1:]]


# --------------------------------------------------------------------------- publishing


def test_publishing_replaces_the_output_atomically(page: Page) -> None:
    job = page.drop("flagged", "atomic.jpg", folder="atomic")
    output = page.output("flagged", "atomic", "atomic.png")
    second = page.ok(page.post(f"/api/v1/jobs/{job['id']}/refine", {
        "strokes": [{"mode": "remove", "radius": 8, "points": [[40, 30], [120, 90]]}]}))
    revisions = [job["revision"], second]
    versions = [page.media(r["media"]["result"]) for r in revisions]
    assert versions[0] != versions[1]
    stop = threading.Event()
    seen: list[bytes] = []
    problems: list[str] = []

    def read() -> None:
        while not stop.is_set():
            try:
                data = output.read_bytes()
            except OSError as e:
                problems.append(f"unreadable: {e}")
                continue
            if data not in versions:
                problems.append(f"torn: {len(data)} bytes")
            seen.append(data)

    reader = threading.Thread(target=read, name="output-reader")
    reader.start()
    try:
        for i in range(30):
            page.ok(page.post(f"/api/v1/revisions/{revisions[(i + 1) % 2]['id']}/publish"))
    finally:
        stop.set()
        reader.join(10)
    assert problems == []
    assert len(seen) > 30
    assert versions[0] in seen and versions[1] in seen
    assert output.read_bytes() == versions[0]  # the last publish was revision 1
    assert page.row("atomic.jpg")["published"] == 1
    assert image_of(output.read_bytes()).size == (160, 120)
    assert sorted(p.name for p in output.parent.iterdir()) == ["atomic.png"]


@pytest.mark.parametrize("point", ["after-publish-write", "after-temp-write"])
def test_publish_killed_midway_is_finished_at_the_next_start(tmp_path: Path,
                                                             point: str) -> None:
    daemon = Daemon(tmp_path, {"studio": {"review": {"hold": "all"}}},
                    faults=f"{point}:kill:crash")
    daemon.start()
    try:
        page = Page(daemon)
        try:
            shoot(daemon.inbox / "crash.jpg")
            daemon.wait_states({"crash.jpg": "done"})
            job = page.job(page.row("crash.jpg")["id"])
            result = page.media(job["revision"]["media"]["result"])
            assert daemon.outputs() == []
            with pytest.raises(httpx.TransportError):
                page.post(f"/api/v1/jobs/{job['id']}/approve")
        finally:
            page.close()
        assert daemon.wait_exit(10) == -signal.SIGKILL
        row = page.row("crash.jpg")
        assert row["publishing"] == 1 and row["published"] is None
        temps = [p for p in daemon.outputs() if p.name.startswith(".crash.png")]
        assert len(temps) == (1 if point == "after-temp-write" else 0)

        daemon.faults = ""
        daemon.start()
        page = Page(daemon)
        try:
            row = page.row("crash.jpg")
            assert row["publishing"] is None and row["published"] == 1
            assert [p.name for p in daemon.outputs()] == ["crash.png"]  # temp file cleaned
            assert (daemon.outbox / "crash.png").read_bytes() == result
            assert [r["status"] for r in page.revisions(job["id"])] == ["published"]
            assert page.job(job["id"])["published"] == 1
            assert page.job(job["id"])["review"] == "approved"  # what the approve meant
        finally:
            page.close()
    finally:
        if daemon.proc is not None and daemon.proc.poll() is None:
            daemon.stop()
