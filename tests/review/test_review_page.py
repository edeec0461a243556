"""The review page in headless Chromium against a real ``studiocut run`` subprocess.

What a person does on the page (watch a shot arrive, approve with P, reject in bulk, refine
with a keep point and apply, revert, look at every rendition of a listing photo, work
without the event stream, retry and dismiss a failed photo) is checked where it lands: the
journal, the API and the output folder. Pages that are refused show the signed-out page and
change nothing. Every test also fails when the page logs a console error, throws, or trips
the content security policy, except where an error is the point (the refusals, the blocked
stream). Screenshots of each screen go to
``$STUDIOCUT_ARTIFACTS/screenshots`` (default ``<repo>/test-artifacts``).

One browser per module; one daemon per module whose tests each use a profile (watched and
output folders) of their own and filter the page to it, so they stay independent of each
other and of their order. Each test gets a fresh browser context (no shared cookie)."""

from __future__ import annotations

import io
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from daemon_harness import Daemon

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("no chromium on PATH (Debian: apt install chromium); the review page tests "
                "drive the system browser and never download one", allow_module_level=True)

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1400, "height": 900}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TIMEOUT = 20_000  # ms, for expect(): a photo is queued, settles, is cut and is announced
HELD = {"hold": "flagged", "min_area": 0.99}  # every photo: "subject too small", held
FLAGGED = {"min_area": 0.99}  # every photo flagged, but published
PROFILES = {
    "arrive": HELD, "approve": HELD, "bulk": FLAGGED, "refine": FLAGGED, "revert": FLAGGED,
    "offline": HELD, "guard": HELD, "failing": HELD, "showcase": HELD, "keys": HELD,
    "listing": HELD,
}
# a listing photo: a white square, the transparent cut-out at the photo's size, a portrait
LISTING = [{"name": "white", "backdrop": "#ffffff", "format": "jpeg", "square": {"size": 480}},
           {"name": "cutout", "folder": "cutout"},
           {"name": "portrait", "backdrop": "#ffffff", "format": "jpeg", "suffix": "_p",
            "canvas": {"width": 300, "height": 432}, "fill": 0.85}]
KEYS = {"failing": {"retries": 0}, "listing": {"renditions": LISTING}}
PRODUCTS = [("bottle", (40, 120, 90)), ("mug", (200, 70, 40)), ("box", (50, 90, 170)),
            ("bottle", (150, 40, 110))]


# --------------------------------------------------------------------------- photos


def studio_photo(kind: str, colour: tuple[int, int, int],
                 size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A synthetic product shot worth looking at in a screenshot: a bottle, a mug or a box,
    lit from the left, on a plain light backdrop (what backdrop-key expects)."""
    w, h = size
    s = min(w, h) / 480
    cx, base = w / 2, h * 0.86
    mask = Image.new("L", size, 0)
    dark = Image.new("L", size, 0)  # caps, labels, shaded faces
    d, dd = ImageDraw.Draw(mask), ImageDraw.Draw(dark)
    if kind == "bottle":
        bw, bh = 120 * s, 230 * s
        top = base - bh
        d.rounded_rectangle((cx - bw / 2, top, cx + bw / 2, base), radius=34 * s, fill=255)
        d.polygon([(cx - bw / 2 + 8 * s, top + 30 * s), (cx - 22 * s, top - 50 * s),
                   (cx + 22 * s, top - 50 * s), (cx + bw / 2 - 8 * s, top + 30 * s)], fill=255)
        cap = (cx - 24 * s, top - 95 * s, cx + 24 * s, top - 45 * s)
        d.rectangle(cap, fill=255)
        dd.rectangle(cap, fill=255)
        dd.rectangle((cx - bw / 2, base - bh * 0.62, cx + bw / 2, base - bh * 0.25), fill=120)
    elif kind == "mug":
        mw, mh = 170 * s, 180 * s
        x0 = cx - mw / 2 - 30 * s
        d.ellipse((x0 + mw - 30 * s, base - mh * 0.8, x0 + mw + 75 * s, base - mh * 0.2),
                  fill=255)
        d.ellipse((x0 + mw - 5 * s, base - mh * 0.67, x0 + mw + 48 * s, base - mh * 0.33),
                  fill=0)
        d.rounded_rectangle((x0, base - mh, x0 + mw, base), radius=18 * s, fill=255)
        dd.rectangle((x0, base - mh, x0 + mw, base - mh + 14 * s), fill=90)
    else:
        bw, bh, dep = 190 * s, 150 * s, 45 * s
        x0 = cx - bw / 2 - dep / 2
        lid = [(x0, base - bh), (x0 + dep, base - bh - dep), (x0 + bw + dep, base - bh - dep),
               (x0 + bw, base - bh)]
        side = [(x0 + bw, base - bh), (x0 + bw + dep, base - bh - dep),
                (x0 + bw + dep, base - dep), (x0 + bw, base)]
        d.rectangle((x0, base - bh, x0 + bw, base), fill=255)
        d.polygon(lid, fill=255)
        d.polygon(side, fill=255)
        dd.polygon(side, fill=110)
        dd.polygon(lid, fill=40)
    m = np.asarray(mask.filter(ImageFilter.GaussianBlur(0.8)), np.float32)[..., None] / 255
    shade_dark = np.asarray(dark, np.float32)[..., None] / 255
    cols = np.flatnonzero(np.asarray(mask).any(axis=0))
    xs = (np.arange(w, dtype=np.float32) - cols[0]) / max(1, cols[-1] - cols[0])
    light = 0.8 + 0.35 * np.exp(-((xs - 0.3) ** 2) / 0.02) - 0.25 * np.clip(xs, 0, 1)
    subject = np.asarray(colour, np.float32) * light[None, :, None] * (1 - 0.45 * shade_dark)
    backdrop = np.full((h, w, 3), (236, 234, 230), np.float32)
    pixels = backdrop * (1 - m) + np.clip(subject, 0, 255) * m
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def drop(path: Path, kind: str = "bottle", colour: tuple[int, int, int] = (40, 120, 90),
         data: bytes | None = None) -> Path:
    """Put a photo (or ``data``) into a watched folder the way a tethering tool does: write a
    hidden temporary file, then rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.part")
    if data is None:
        studio_photo(kind, colour).save(temp, format="JPEG", quality=92)
    else:
        temp.write_bytes(data)
    os.replace(temp, path)
    return path


# --------------------------------------------------------------------------- the daemon


class Studio:
    """The shared daemon, an API client with the Bearer token, and journal look-ups."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.url = daemon.review_url()  # http://127.0.0.1:PORT/
        self.token = daemon.token()
        self.port = httpx.URL(self.url).port
        self.api = httpx.Client(base_url=self.url, timeout=30,
                                headers={"Authorization": f"Bearer {self.token}"})

    def inbox(self, profile: str) -> Path:
        return self.daemon.inbox / profile

    def row(self, path: Path) -> dict[str, Any] | None:
        for job in self.daemon.jobs():
            if Path(job["source"]) == path:
                return job
        return None

    def shoot(self, profile: str, name: str, kind: str = "bottle",
              colour: tuple[int, int, int] = (40, 120, 90)) -> Path:
        return drop(self.inbox(profile) / name, kind, colour)

    def wait_state(self, path: Path, state: str, timeout: float = 30.0) -> dict[str, Any]:
        def reached() -> bool:
            row = self.row(path)
            return row is not None and row["state"] == state

        self.daemon.wait_for(reached, timeout, f"{path.name} {state}")
        row = self.row(path)
        assert row is not None
        return row

    def shoot_done(self, profile: str, count: int, prefix: str) -> list[dict[str, Any]]:
        """``count`` product shots into ``profile``'s folder, each done; their jobs (API)."""
        paths = [self.shoot(profile, f"{prefix}-{i}.jpg", *PRODUCTS[i % len(PRODUCTS)])
                 for i in range(count)]
        return [self.job(self.wait_state(p, "done")["id"]) for p in paths]

    def job(self, job_id: int) -> dict[str, Any]:
        response = self.api.get(f"/api/v1/jobs/{job_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def media(self, url: str) -> bytes:
        response = self.api.get(url)
        assert response.status_code == 200, (url, response.text)
        return response.content

    def output(self, job: dict[str, Any]) -> Path:
        """Where a job's result is published (each profile writes to out/<profile>/)."""
        return self.daemon.outbox / job["profile"] / job["output_name"]

    def wait_output(self, job: dict[str, Any], data: bytes | None, what: str) -> None:
        """Wait until the job's output holds exactly ``data`` (None: until it is gone)."""
        path = self.output(job)

        def matches() -> bool:
            if data is None:
                return not path.exists()
            try:
                return path.read_bytes() == data
            except OSError:
                return False

        self.daemon.wait_for(matches, 10, what)


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    root = tmp_path_factory.mktemp("review-page")
    daemon = Daemon(root, {
        name: {"watch": str(root / "in" / name), "output": str(root / "out" / name),
               "review": review, **KEYS.get(name, {})}
        for name, review in PROFILES.items()})
    daemon.start()
    studio = Studio(daemon)
    try:
        yield studio
    finally:
        studio.api.close()
        if daemon.stop() != 0:
            daemon.kill9()


# --------------------------------------------------------------------------- the browser


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """conftest's guard, less the worker threads of the asyncio loop that Playwright's sync
    API keeps for the whole module (``asyncio_N``: they end when the module's Playwright
    stops). Any other thread a test leaves running still fails it."""
    before = set(threading.enumerate())
    yield
    leaked: list[threading.Thread] = []
    for _ in range(50):
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()
                  and not t.name.startswith("asyncio_")]
        if not leaked:
            return
        time.sleep(0.1)
    pytest.fail(f"test leaked threads: {', '.join(t.name for t in leaked)}")


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
    try:
        yield browser
    finally:
        browser.close()


# An init script runs outside the page's CSP: report every violation as a console error, so
# one that Chromium would only mention in a report still fails the test.
CSP_WATCH = """
document.addEventListener('securitypolicyviolation', (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
});
"""


class Ui:
    """A fresh browser context for one test, which fails the test on console errors,
    uncaught exceptions and CSP violations unless ``allow``-ed."""

    def __init__(self, browser: Browser, studio: Studio) -> None:
        self.studio = studio
        self.context: BrowserContext = browser.new_context(viewport=VIEWPORT)
        self.context.set_default_timeout(TIMEOUT)
        self.context.add_init_script(CSP_WATCH)
        self.errors: list[str] = []
        self.allowed: list[Callable[[str, str], bool]] = []

    def allow(self, rule: Callable[[str, str], bool]) -> None:
        """Expect console errors for which ``rule(text, url)`` is true."""
        self.allowed.append(rule)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "") if message.location else ""
        if not any(rule(message.text, url) for rule in self.allowed):
            self.errors.append(f"console error: {message.text} ({url})")

    def page(self) -> Page:
        page = self.context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        return page

    def open(self, profile: str | None = None, page: Page | None = None) -> Page:
        """Sign in with the token, wait for the first load, and show ``profile`` only."""
        page = page or self.page()
        response = page.goto(f"{self.studio.url}?token={self.studio.token}")
        assert response is not None and response.ok, response and response.status
        expect(page.locator("body")).to_have_attribute("data-ready", "1")
        if profile is not None:
            show_profile(page, profile)
        return page

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def ui(browser: Browser, studio: Studio) -> Iterator[Ui]:
    ui = Ui(browser, studio)
    try:
        yield ui
    finally:
        ui.close()
    assert not ui.errors, "the page logged errors:\n" + "\n".join(ui.errors)


def show_profile(page: Page, profile: str) -> None:
    """Filter the review grid to one profile (the list loads once the profiles are known)."""
    expect(page.locator(f"#profile-filter option[value='{profile}']")).to_be_attached()
    page.locator("#profile-filter").select_option(profile)
    list_loaded(page)


def list_loaded(page: Page) -> None:
    """Wait for the review list the page is loading (after a filter or view change) to be
    shown: the "Load more" button stays disabled meanwhile."""
    expect(page.locator("#load-more")).to_be_enabled()


def card(page: Page, job: dict[str, Any]) -> Locator:
    return page.locator(f"#queue .card[data-job='{job['id']}']")


def card_ids(page: Page) -> list[int]:
    return [int(v) for v in page.locator("#queue .card").evaluate_all(
        "cards => cards.map(c => c.dataset.job)")]


def has_class(name: str) -> re.Pattern[str]:
    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")


def open_inspector(page: Page, job: dict[str, Any]) -> None:
    card(page, job).dblclick()
    inspector = page.locator("#inspector")
    expect(inspector).to_be_visible()
    expect(page.locator("#insp-name")).to_have_text(job["name"])
    expect(page.locator("#frame")).to_be_visible()  # the shown revision's image is loaded
    expect(page.locator("#stage")).not_to_have_class(has_class("is-loading"))


def click_canvas(page: Page, size: list[int], x: float, y: float) -> None:
    """Click a point given in canvas pixels of the full-resolution result."""
    marks = page.locator("#marks")
    box = marks.bounding_box()
    assert box is not None
    marks.click(position={"x": x * box["width"] / size[0], "y": y * box["height"] / size[1]})


def grey(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        band = image.getchannel("A") if image.mode == "RGBA" else image.convert("L")
        return np.asarray(band, dtype=np.float32)


# --------------------------------------------------------------------------- live updates


def test_a_new_shot_appears_as_a_card_without_a_reload(ui: Ui, studio: Studio) -> None:
    earlier = studio.shoot_done("arrive", 2, "arrive")
    page = ui.open("arrive")
    expect(page.locator("#queue .card")).to_have_count(2)
    assert card_ids(page) == [j["id"] for j in earlier]
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    page.evaluate("() => { document.body.dataset.sameDocument = 'yes'; }")

    path = studio.shoot("arrive", "arrive-late.jpg", "mug", (200, 70, 40))
    new = studio.wait_state(path, "done")
    expect(page.locator("#queue .card")).to_have_count(3)
    assert card_ids(page) == [earlier[0]["id"], earlier[1]["id"], new["id"]]  # appended
    fresh = page.locator("#queue .card").last
    expect(fresh.locator(".name")).to_have_text("arrive-late.jpg")
    expect(fresh).to_have_attribute("data-review", "held")
    expect(fresh.locator(".reasons li")).to_contain_text(["subject too small"])
    expect(fresh.locator("img")).to_have_attribute("src", re.compile(r"/api/v1/media/\d+/thumb"))
    assert page.evaluate("() => document.body.dataset.sameDocument") == "yes"  # no reload


# --------------------------------------------------------------------------- review actions


def test_p_approves_the_current_card_publishes_it_and_moves_on(ui: Ui, studio: Studio) -> None:
    jobs = studio.shoot_done("approve", 3, "approve")
    first, second, third = jobs
    assert first["review"] == "held" and first["published"] is None
    assert not studio.output(first).exists()  # held: nothing in the output folder yet

    page = ui.open("approve")
    expect(page.locator("#queue .card")).to_have_count(3)
    card(page, first).click()
    expect(card(page, first)).to_have_class(has_class("current"))
    page.keyboard.press("p")

    expect(card(page, second)).to_have_class(has_class("current"))  # auto-advance
    expect(card(page, first)).not_to_have_class(has_class("current"))
    expect(card(page, first)).to_have_class(has_class("gone"))  # left the flagged view
    expect(card(page, first)).to_have_attribute("data-review", "approved")

    studio.daemon.wait_for(lambda: studio.job(first["id"])["review"] == "approved", 10,
                           "the approval in the journal")
    approved = studio.job(first["id"])
    assert approved["published"] == 1
    studio.wait_output(first, studio.media(approved["revisions"][0]["media"]["result"]),
                       "the approved result in the output folder")
    for other in (second, third):  # P reviewed one job only
        assert studio.job(other["id"])["review"] == "held"
        assert not studio.output(other).exists()


def test_bulk_reject_of_three_withdraws_their_outputs(ui: Ui, studio: Studio) -> None:
    jobs = studio.shoot_done("bulk", 4, "bulk")
    for job in jobs:
        assert job["review"] == "flagged" and studio.output(job).is_file()
    chosen, spared = jobs[:3], jobs[3]

    page = ui.open("bulk")
    expect(page.locator("#queue .card")).to_have_count(4)
    expect(page.locator("#bulk")).to_be_hidden()
    for job in chosen:
        card(page, job).click(modifiers=["Control"])
        expect(card(page, job)).to_have_class(has_class("selected"))
    expect(page.locator("#bulk")).to_be_visible()
    expect(page.locator("#bulk-count")).to_have_text("3")
    expect(card(page, spared)).not_to_have_class(has_class("selected"))

    with page.expect_response(lambda r: r.url.endswith("/api/v1/bulk")) as answer:
        page.locator("button[data-bulk='reject']").click()
    assert answer.value.status == 200
    assert all(r["ok"] for r in answer.value.json()["results"])
    expect(page.locator("#toast")).to_have_text("Rejected 3 jobs")
    for job in chosen:
        expect(card(page, job)).to_have_class(has_class("gone"))
    expect(page.locator("#bulk")).to_be_hidden()

    for job in chosen:
        after = studio.job(job["id"])
        assert after["review"] == "rejected" and after["published"] is None
        assert not studio.output(job).exists()
    assert studio.job(spared["id"])["review"] == "flagged"
    assert studio.output(spared).is_file()
    expect(card(page, spared)).not_to_have_class(has_class("gone"))


# --------------------------------------------------------------------------- refine


def test_a_keep_point_refines_and_apply_publishes_it(ui: Ui, studio: Studio) -> None:
    (job,) = studio.shoot_done("refine", 1, "refine")
    first = job["revisions"][0]
    size = first["size"]
    x, y = 0.08 * size[0], 0.12 * size[1]  # the backdrop, well away from the product
    assert grey(studio.media(first["media"]["mask"]))[round(y), round(x)] < 30
    assert studio.output(job).read_bytes() == studio.media(first["media"]["result"])

    page = ui.open("refine")
    open_inspector(page, job)
    expect(page.locator("#revisions li.revision")).to_have_count(1)
    page.locator("button.tool[data-tool='keep']").click()
    expect(page.locator("button.tool[data-tool='keep']")).to_have_attribute("aria-pressed",
                                                                              "true")
    click_canvas(page, size, x, y)
    expect(page.locator("#marks-count")).to_have_text("Marks: 1 keep")

    with page.expect_response(re.compile(r"/api/v1/jobs/\d+/refine$")) as answer:
        page.locator("#refine-run").click()
    assert answer.value.status == 200, answer.value.text()
    body = answer.value.request.post_data_json
    (point,) = body["points"]
    assert point["label"] == 1
    assert abs(point["x"] - x) <= 2 and abs(point["y"] - y) <= 2  # page px -> canvas px

    revisions = page.locator("#revisions li.revision")
    expect(revisions).to_have_count(2)
    expect(page.locator("#revisions li.revision[data-number='2']")).to_have_class(
        has_class("shown"))
    expect(page.locator("#shown-rev")).to_contain_text("r2")
    expect(page.locator("#shown-rev")).to_contain_text("not live")
    candidate = next(r for r in studio.job(job["id"])["revisions"] if r["number"] == 2)
    assert candidate["kind"] == "refine"

    old, new = (grey(studio.media(r["media"]["mask"])) for r in (first, candidate))
    r0, c0 = round(y), round(x)
    around = (slice(r0 - 3, r0 + 4), slice(c0 - 3, c0 + 4))
    assert old[around].mean() < 30 and new[around].mean() > 200, (old[around], new[around])
    assert studio.output(job).read_bytes() == studio.media(first["media"]["result"])  # not yet

    page.locator("#apply").click()
    expect(page.locator("#revisions li.revision[data-number='2']")).to_have_class(
        has_class("published"))
    expect(page.locator("#insp-published")).to_have_text("r2")
    expect(page.locator("#apply")).to_be_disabled()
    studio.wait_output(job, studio.media(candidate["media"]["result"]),
                       "revision 2 in the output folder")
    assert studio.job(job["id"])["published"] == 2


def test_publishing_revision_1_reverts_the_output(ui: Ui, studio: Studio) -> None:
    """Set up through the API (a refined revision 2, published), then revert on the page."""
    (job,) = studio.shoot_done("revert", 1, "revert")
    size = job["revisions"][0]["size"]
    made = studio.api.post(f"/api/v1/jobs/{job['id']}/refine", json={
        "points": [{"x": round(0.9 * size[0]), "y": round(0.1 * size[1]), "label": 1}]})
    assert made.status_code == 200, made.text
    second = made.json()
    published = studio.api.post(f"/api/v1/revisions/{second['id']}/publish", json={})
    assert published.status_code == 200, published.text
    first = studio.job(job["id"])["revisions"][0]
    one, two = (studio.media(r["media"]["result"]) for r in (first, second))
    assert one != two
    studio.wait_output(job, two, "revision 2 in the output folder")

    page = ui.open("revert")
    page.locator("button.view[data-view='all']").click()  # publishing approved it
    list_loaded(page)
    open_inspector(page, job)
    expect(page.locator("#revisions li.revision")).to_have_count(2)
    live = page.locator("#revisions li.revision[data-number='2']")
    expect(live).to_have_class(has_class("published"))
    expect(live.locator("button[data-action='publish']")).to_be_disabled()

    with page.expect_response(re.compile(r"/api/v1/revisions/\d+/publish$")) as answer:
        page.locator("#revisions li.revision[data-number='1'] "
                     "button[data-action='publish']").click()
    assert answer.value.status == 200 and answer.value.url.endswith(
        f"/revisions/{first['id']}/publish")
    expect(page.locator("#revisions li.revision[data-number='1']")).to_have_class(
        has_class("published"))
    expect(page.locator("#revisions li.revision[data-number='2']")).not_to_have_class(
        has_class("published"))
    expect(page.locator("#insp-published")).to_have_text("r1")
    studio.wait_output(job, one, "revision 1 back in the output folder")
    assert studio.job(job["id"])["published"] == 1


def test_keys_on_the_grid_and_in_the_inspector(ui: Ui, studio: Studio) -> None:
    """The shortcuts the page lists: select all and clear, move, open, background (F),
    original (O), brush size (]), undo a mark (Backspace), reject (X) and undo it (U)."""
    first, second, third = studio.shoot_done("keys", 3, "keys")
    page = ui.open("keys")
    expect(page.locator("#queue .card")).to_have_count(3)
    expect(card(page, first)).to_have_class(has_class("current"))
    page.keyboard.press("Control+a")
    expect(page.locator("#bulk-count")).to_have_text("3")
    page.keyboard.press("Escape")
    expect(page.locator("#bulk")).to_be_hidden()
    page.keyboard.press("ArrowRight")
    expect(card(page, second)).to_have_class(has_class("current"))

    page.keyboard.press("Enter")
    expect(page.locator("#insp-name")).to_have_text(second["name"])
    expect(page.locator("#frame")).to_be_visible()
    expect(page.locator("#stage")).not_to_have_class(has_class("is-loading"))
    page.keyboard.press("f")
    expect(page.locator("#frame")).to_have_class(has_class("bg-white"))
    page.keyboard.press("o")
    expect(page.locator("button.mode[data-mode='original']")).to_have_attribute(
        "aria-pressed", "true")
    expect(page.locator("#img-main")).to_have_attribute("data-kind", "before")
    page.keyboard.press("o")
    expect(page.locator("#img-main")).to_have_attribute("data-kind", "cutout")
    expect(page.locator("#frame")).to_have_class(has_class("bg-white"))
    page.locator("button.zoom[data-zoom='100']").click()
    expect(page.locator("#frame")).to_have_class(has_class("zoomed"))
    page.locator("button.zoom[data-zoom='fit']").click()
    expect(page.locator("#frame")).not_to_have_class(has_class("zoomed"))

    page.keyboard.press("]")
    expect(page.locator("#brush-radius-v")).to_have_text("23")
    page.locator("button.tool[data-tool='remove']").click()
    size = second["revisions"][0]["size"]
    click_canvas(page, size, size[0] / 2, size[1] / 2)
    expect(page.locator("#marks-count")).to_have_text("Marks: 1 remove")
    page.keyboard.press("Backspace")
    expect(page.locator("#marks-count")).to_have_text(re.compile(r"^No marks"))

    page.locator("#inspector").focus()  # keys go to the inspector, not the tool button
    page.keyboard.press("x")
    expect(page.locator("#insp-name")).to_have_text(third["name"])  # moved on
    studio.daemon.wait_for(lambda: studio.job(second["id"])["review"] == "rejected", 10,
                           "the rejection in the journal")
    page.keyboard.press("u")
    expect(page.locator("#insp-name")).to_have_text(second["name"])  # back to the undone job
    studio.daemon.wait_for(lambda: studio.job(second["id"])["review"] == "held", 10,
                           "the undone rejection in the journal")
    expect(page.locator("#insp-review")).to_have_text("held")
    page.keyboard.press("Escape")
    expect(page.locator("#inspector")).to_be_hidden()
    expect(card(page, second)).to_have_class(has_class("current"))
    expect(card(page, second)).not_to_have_class(has_class("gone"))
    assert studio.job(third["id"])["review"] == "held"


# --------------------------------------------------------------------------- renditions


def rendition_thumbs(page: Page) -> list[dict[str, Any]]:
    return page.locator("#insp-renditions img").evaluate_all(
        "imgs => imgs.map(i => ({src: i.getAttribute('src'), alt: i.alt,"
        " size: [i.naturalWidth, i.naturalHeight]}))")


def test_every_rendition_shows_as_a_thumbnail_and_a_refine_makes_them_all_again(
        ui: Ui, studio: Studio) -> None:
    """A listing photo's inspector shows each rendition (name, size, format), loaded
    through the media API and reachable with the keyboard; a refine's revision shows its
    own, re-rendered, and approving it with P publishes all three together."""
    (job,) = studio.shoot_done("listing", 1, "listing")
    first = job["revisions"][0]
    facts = [("white", "480 × 480 px · JPG"), ("cutout", "640 × 480 px · PNG"),
             ("portrait", "300 × 432 px · JPG")]
    assert [r["name"] for r in first["renditions"]] == [name for name, _ in facts]

    page = ui.open("listing")
    open_inspector(page, job)
    expect(page.locator("#insp-renditions-sec")).to_be_visible()
    items = page.locator("#insp-renditions li.rendition")
    expect(items).to_have_count(3)
    for index, (name, text) in enumerate(facts):
        item = items.nth(index)
        expect(item.locator(".rendition-name")).to_have_text(name)
        expect(item.locator(".rendition-facts")).to_have_text(text)
        expect(item.locator("img")).to_have_attribute("alt", f"{name} rendition, {text}")
    expect(items.nth(2).locator(".rendition-output")).to_have_text("listing-0_p.jpg")
    images_loaded(page, "#insp-renditions img")
    shown = rendition_thumbs(page)
    assert [t["src"] for t in shown] == [r["thumb"] for r in first["renditions"]]
    assert all(re.fullmatch(rf"/api/v1/media/{first['id']}/rendition-\w+\?max=320", t["src"])
               for t in shown)
    assert [t["size"] for t in shown] == [[320, 320], [320, 240], [222, 320]]
    page.screenshot(path=str(artifacts() / "renditions.png"), full_page=True)

    link = items.nth(2).locator("a.rendition-link")
    link.focus()
    expect(link).to_be_focused()
    with ui.context.expect_page() as opened:
        page.keyboard.press("Enter")  # the whole file, in a new tab
    whole = opened.value
    whole.wait_for_load_state()
    assert whole.url.endswith(f"/api/v1/media/{first['id']}/rendition-portrait")
    whole.close()

    size = first["size"]
    made = studio.api.post(f"/api/v1/jobs/{job['id']}/refine", json={"strokes": [
        {"mode": "remove", "radius": 25, "points": [[size[0] / 2, size[1] * 0.6]]}]})
    assert made.status_code == 200, made.text
    second = made.json()
    assert [r["name"] for r in second["renditions"]] == [name for name, _ in facts]
    revision = page.locator("#revisions li.revision[data-number='2']")
    expect(revision).to_be_visible()  # announced by the event stream
    expect(revision.locator(".rev-renditions")).to_have_text("3 renditions")
    revision.focus()
    page.keyboard.press("Enter")
    expect(revision).to_have_class(has_class("shown"))
    expect(page.locator("#insp-renditions img").first).to_have_attribute(
        "src", second["renditions"][0]["thumb"])
    images_loaded(page, "#insp-renditions img")
    assert [t["src"] for t in rendition_thumbs(page)] == [
        r["thumb"] for r in second["renditions"]]
    for old, new in zip(first["renditions"], second["renditions"], strict=True):
        assert studio.media(old["url"]) != studio.media(new["url"]), new["name"]

    page.locator("#inspector").focus()
    page.keyboard.press("p")
    studio.daemon.wait_for(lambda: studio.job(job["id"])["published"] == 2, 10,
                           "the refined revision approved")
    outputs = {"white": "listing-0.jpg", "cutout": "cutout/listing-0.png",
               "portrait": "listing-0_p.jpg"}
    for rendition in second["renditions"]:
        path = studio.daemon.outbox / "listing" / outputs[rendition["name"]]
        assert path.read_bytes() == studio.media(rendition["url"]), rendition["name"]


# --------------------------------------------------------------------------- degraded


def test_the_page_polls_when_the_event_stream_is_cut(ui: Ui, studio: Studio) -> None:
    (earlier,) = studio.shoot_done("offline", 1, "offline")
    page = ui.page()
    blocked: list[str] = []

    def cut(route: Any) -> None:
        blocked.append(route.request.url)
        route.abort()

    page.route("**/api/v1/events", cut)  # the stream only; events.json still answers
    ui.allow(lambda text, url: url.endswith("/api/v1/events"))
    with page.expect_request("**/api/v1/events"):  # the page does try the stream
        ui.open("offline", page)
    expect(page.locator("#queue .card")).to_have_count(1)
    expect(page.locator("#conn")).to_have_attribute("data-state", "polling")
    assert blocked, "the stream was not cut"

    path = studio.shoot("offline", "offline-late.jpg", "box", (50, 90, 170))
    new = studio.wait_state(path, "done")
    expect(card(page, new)).to_be_visible()
    assert card_ids(page) == [earlier["id"], new["id"]]
    expect(page.locator("#conn")).to_have_attribute("data-state", "polling")
    assert all(url.endswith("/api/v1/events") for url in blocked)


# --------------------------------------------------------------------------- refusals


def test_refusals(ui: Ui, studio: Studio, playwright: Playwright) -> None:
    (job,) = studio.shoot_done("guard", 1, "guard")
    ui.allow(lambda text, url: "status of 401" in text)
    anonymous = ui.page()
    response = anonymous.goto(studio.url)
    assert response is not None and response.status == 401
    expect(anonymous.locator("h1")).to_have_text("studiocut review")
    expect(anonymous.locator("#queue")).to_have_count(0)  # no app without the token
    assert not anonymous.context.cookies()

    fresh = playwright.request.new_context()
    try:
        assert fresh.get(f"{studio.url}api/v1/status").status == 401
        foreign_host = fresh.get(f"{studio.url}api/v1/status", headers={
            "Authorization": f"Bearer {studio.token}", "Host": "evil.example"})
        assert foreign_host.status == 421
        assert fresh.get(f"{studio.url}api/v1/status", headers={
            "Authorization": f"Bearer {studio.token}"}).status == 200
    finally:
        fresh.dispose()

    page = ui.open("guard")  # signed in: the context holds the session cookie
    (cookie,) = ui.context.cookies()
    assert cookie["name"] == "studiocut_session" and cookie["httpOnly"]
    assert page.evaluate("() => document.cookie") == ""  # out of reach of scripts
    approve = f"{studio.url}api/v1/jobs/{job['id']}/approve"
    refused = ui.context.request.post(approve, data="{}", headers={
        "Content-Type": "application/json", "Origin": "http://evil.example"})
    assert refused.status == 403
    assert studio.job(job["id"])["review"] == "held"
    assert not studio.output(job).exists()
    # the same request from the page's own origin goes through: the cookie was sent
    allowed = ui.context.request.post(approve, data="{}", headers={
        "Content-Type": "application/json", "Origin": f"http://127.0.0.1:{studio.port}"})
    assert allowed.status == 200, allowed.text()
    assert studio.job(job["id"])["review"] == "approved"
    expect(card(page, job)).to_have_attribute("data-review", "approved")


def test_a_lost_session_shows_its_screen_and_stops_asking(ui: Ui, studio: Studio) -> None:
    ui.allow(lambda text, url: "status of 401" in text)
    page = ui.open()
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    ui.context.clear_cookies()  # as after a restart with a new token
    expect(page.locator("#session")).to_be_visible()  # the next status refresh is refused
    expect(page.locator("#toast")).to_have_text(page.locator("#session-msg").inner_text())
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/" in r.url else None)
    page.wait_for_timeout(3000)  # longer than the status refresh and the polling
    assert asked == []


# --------------------------------------------------------------------------- failed photos


def test_failed_photo_retry_and_dismiss(ui: Ui, studio: Studio) -> None:
    path = drop(studio.inbox("failing") / "failing-broken.jpg", data=b"not a photo " * 64)
    row = studio.wait_state(path, "failed")
    job_id = row["id"]
    page = ui.open()
    page.locator("button.tab[data-tab='failed']").click()
    expect(page.locator("#failed")).to_be_visible()
    failed = page.locator(f".failed-row[data-job='{job_id}']")
    expect(failed).to_be_visible()
    expect(failed.locator(".f-name")).to_have_text("failing-broken.jpg")
    expect(failed.locator(".f-profile")).to_have_text("failing")
    expect(page.locator("#failed-count")).to_be_visible()
    events_before = studio.api.get("/api/v1/events.json", params={"tail": 1}).json()["last"]

    with page.expect_response(f"**/api/v1/jobs/{job_id}/retry") as answer:
        failed.locator("button[data-action='retry']").click()
    assert answer.value.status == 200
    # the journal: queued again (a retry), then failed again; the row comes back
    def retried() -> bool:
        events = studio.api.get("/api/v1/events.json",
                                params={"after": events_before}).json()["events"]
        mine = [e for e in events if e["job"] == job_id]
        queued = [i for i, e in enumerate(mine) if e["kind"] == "queued" and e["data"].get(
            "retry") is True]
        return bool(queued) and any(e["kind"] == "failed" for e in mine[queued[0]:])

    studio.daemon.wait_for(retried, 20, "the retry to be queued and to fail again")
    assert studio.job(job_id)["state"] == "failed"
    expect(failed).to_be_visible()
    expect(failed.locator("button[data-action='dismiss']")).to_be_enabled()

    with page.expect_response(f"**/api/v1/jobs/{job_id}/dismiss") as answer:
        failed.locator("button[data-action='dismiss']").click()
    assert answer.value.status == 200
    expect(failed).to_have_count(0)
    assert studio.job(job_id)["review"] == "dismissed"
    with page.expect_response(lambda r: "view=failed" in r.url) as listed:
        page.reload()  # dismissed for good, not only on this page
    assert all(j["id"] != job_id for j in listed.value.json()["jobs"])
    expect(page.locator("#failed")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-ready", "1")
    expect(failed).to_have_count(0)


# --------------------------------------------------------------------------- screenshots


def artifacts() -> Path:
    folder = Path(os.environ.get("STUDIOCUT_ARTIFACTS") or REPO / "test-artifacts")
    (folder / "screenshots").mkdir(parents=True, exist_ok=True)
    return folder / "screenshots"


def images_loaded(page: Page, selector: str) -> None:
    page.wait_for_function("""sel => {
        const imgs = [...document.querySelectorAll(sel)].filter(i => !i.hidden);
        return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0);
    }""", arg=selector)


def test_screenshots_of_every_screen(ui: Ui, studio: Studio) -> None:
    jobs = studio.shoot_done("showcase", 4, "showcase")
    broken = drop(studio.inbox("showcase") / "showcase-corrupt.jpg", data=b"\xff\xd8 junk" * 99)
    failed_id = studio.wait_state(broken, "failed")["id"]
    folder = artifacts()
    shots: list[Path] = []

    def save(name: str, page: Page) -> None:
        path = folder / f"{name}.png"
        path.unlink(missing_ok=True)
        page.screenshot(path=str(path), full_page=True)
        shots.append(path)

    page = ui.open("showcase")
    page.locator("button.tab[data-tab='monitor']").click()
    expect(page.locator("#monitor")).to_be_visible()
    row = page.locator(".profile-row[data-profile='showcase']")
    expect(row.locator("td[data-col='done']")).to_have_text("4")
    expect(row.locator("td[data-col='failed']")).to_have_text("1")
    expect(page.locator("#feed li").first).to_be_visible()
    save("monitor", page)

    page.locator("button.tab[data-tab='review']").click()
    expect(page.locator("#queue .card")).to_have_count(4)
    images_loaded(page, "#queue .card img")
    card(page, jobs[1]).click()
    card(page, jobs[2]).click(modifiers=["Control"])
    card(page, jobs[3]).click(modifiers=["Control"])
    expect(page.locator("#bulk-count")).to_have_text("2")
    save("review", page)

    page.keyboard.press("Escape")  # clear the selection
    open_inspector(page, jobs[0])
    page.locator("button.tool[data-tool='brush-remove']").click()
    marks = page.locator("#marks")
    box = marks.bounding_box()
    assert box is not None
    # paint across the bottle's label (the product is centred, its label at about 2/3 down)
    y = box["y"] + 0.66 * box["height"]
    page.mouse.move(box["x"] + 0.44 * box["width"], y)
    page.mouse.down()
    page.mouse.move(box["x"] + 0.56 * box["width"], y, steps=8)
    page.mouse.up()
    expect(page.locator("#marks-count")).to_have_text("Marks: 1 stroke")
    page.locator("#refine-run").click()
    expect(page.locator("#revisions li.revision")).to_have_count(2)
    expect(page.locator("#shown-rev")).to_contain_text("r2 · refine · not live")
    page.locator("button.mode[data-mode='split']").click()
    expect(page.locator("button.mode[data-mode='split']")).to_have_attribute("aria-pressed",
                                                                               "true")
    page.locator("#split").fill("45")  # the original left of the bottle's middle
    expect(page.locator("#split-line")).to_be_visible()
    expect(page.locator("#img-before")).to_be_visible()
    images_loaded(page, "#frame img")
    expect(page.locator("#stage")).not_to_have_class(has_class("is-loading"))
    save("inspector", page)

    page.keyboard.press("Escape")
    expect(page.locator("#inspector")).to_be_hidden()
    page.locator("button.tab[data-tab='failed']").click()
    expect(page.locator(f".failed-row[data-job='{failed_id}']")).to_be_visible()
    save("failed", page)

    for path in shots:
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE), path
        with Image.open(path) as image:
            assert image.format == "PNG" and image.width >= VIEWPORT["width"] // 2, path
        assert len(data) > 10_000, f"{path} looks empty ({len(data)} bytes)"
    assert [p.stem for p in shots] == ["monitor", "review", "inspector", "failed"]
