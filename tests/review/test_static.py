"""The review page's static files as a browser loads them: index.html names one entry module,
and every module it reaches through ``import`` statements is served from web/ as JavaScript
under the page's content security policy (a missing file or a bad path fails here, before any
browser runs). Nothing outside web/ is served, however the path is spelled.

One daemon for the module, signed in with its token as the server tests do."""

from __future__ import annotations

import http.client
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from daemon_harness import Daemon

WEB = Path(__file__).resolve().parents[2] / "daemon" / "studiocut" / "review" / "web"

# import / export ... from '<spec>', a bare import '<spec>', and import('<spec>')
IMPORT = re.compile(r"""^\s*(?:import|export)\s+(?:[\w*{}\s,$]+?\s+from\s+)?(['"])([^'"]+)\1""",
                    re.MULTILINE)
DYNAMIC = re.compile(r"""\bimport\(\s*(['"])([^'"]+)\1\s*\)""")


class Site:
    """A client of one daemon's review page that sends the token as a Bearer header."""

    def __init__(self, daemon: Daemon) -> None:
        self.url = daemon.review_url()
        self.secret = daemon.token()
        self.client = httpx.Client(base_url=self.url, timeout=30,
                                   headers={"Authorization": f"Bearer {self.secret}"})

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path)

    def raw_status(self, path: str) -> int:
        """GET ``path`` exactly as written: httpx would remove its dot segments first."""
        address = urlsplit(self.url)
        assert address.hostname is not None and address.port is not None
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        try:
            connection.request("GET", path, headers={"Authorization": f"Bearer {self.secret}"})
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    daemon = Daemon(tmp_path_factory.mktemp("static"))
    daemon.start()
    site = Site(daemon)
    try:
        yield site
    finally:
        site.client.close()
        if daemon.stop() != 0:
            daemon.kill9()


class Scripts(HTMLParser):
    """The <script> elements of a page, as their attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.found.append(dict(attrs))


def imports(source: str) -> list[str]:
    """The specifiers of a module's static imports and re-exports (and any import())."""
    return [m.group(2) for pattern in (IMPORT, DYNAMIC) for m in pattern.finditer(source)]


def test_imports_finds_every_form_of_specifier() -> None:
    source = """import { a, b } from './a.js';
import {
  c,
  d as e,
} from '../views/c.js';
import * as all from "./star.js";
import './side.js';
export { f } from './f.js';
export const g = 'not/a/module.js';
export function h() { return import('./later.js'); }
"""
    assert imports(source) == ["./a.js", "../views/c.js", "./star.js", "./side.js", "./f.js",
                               "./later.js"]


def module_graph(site: Site) -> dict[str, list[str]]:
    """Walk the page's modules from index.html: {served path: the paths it imports}. Fails on
    a module that is not served as JavaScript with the CSP, or that differs from web/."""
    index = site.get("/")
    assert index.status_code == 200
    parser = Scripts()
    parser.feed(index.text)
    assert parser.found, "index.html loads no script"
    assert all(s.get("src") for s in parser.found), "an inline script: the CSP blocks it"
    entries = [urljoin(site.url, str(s["src"])) for s in parser.found]
    assert all(s.get("type") == "module" for s in parser.found), parser.found

    graph: dict[str, list[str]] = {}
    todo = list(entries)
    while todo:
        url = todo.pop()
        path = urlsplit(url).path
        if path in graph:
            continue
        response = site.get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert response.headers["content-type"].startswith("text/javascript"), path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        assert path.startswith("/static/"), path
        assert response.content == (WEB / path.removeprefix("/static/")).read_bytes(), path
        graph[path] = []
        for spec in imports(response.text):
            assert spec.startswith(("./", "../")), f"{path}: {spec!r} is not a relative path"
            target = urljoin(url, spec)
            assert urlsplit(target).netloc == urlsplit(site.url).netloc, (path, spec)
            graph[path].append(urlsplit(target).path)
            todo.append(target)
    return graph


def test_every_module_the_page_imports_is_served_as_javascript_with_the_csp(site: Site) -> None:
    graph = module_graph(site)

    on_disk = {f"/static/{p.relative_to(WEB).as_posix()}" for p in WEB.rglob("*.js")}
    assert set(graph) == on_disk, "modules that nothing imports, or missing ones"
    assert "/static/main.js" in graph


def test_modules_import_each_other_without_a_cycle(site: Site) -> None:
    graph = module_graph(site)
    done: set[str] = set()

    def visit(path: str, trail: list[str]) -> None:
        assert path not in trail, "import cycle: " + " -> ".join([*trail, path])
        if path in done:
            return
        for target in graph[path]:
            visit(target, [*trail, path])
        done.add(path)

    for path in graph:
        visit(path, [])


def test_every_module_fits_the_size_limit() -> None:
    for path in WEB.rglob("*.js"):
        lines = path.read_text(encoding="utf-8").count("\n")
        assert lines <= 450, f"{path.relative_to(WEB)}: {lines} lines"


@pytest.mark.parametrize("path", [
    "/static/../server.py", "/static/%2e%2e/x.js", "/static/views/../../x",
    "/static/%2e%2e/server.py", "/static/..%2fserver.py", "/static/views/..%2f..%2fserver.py",
    "/static/views/%2e%2e/%2e%2e/server.py", "/static//etc/passwd",
])
def test_a_path_out_of_the_folder_is_not_found(site: Site, path: str) -> None:
    assert site.raw_status(path) == 404


@pytest.mark.parametrize("path", [
    "/static/nothing.js", "/static/views/nothing.js", "/static/views/", "/static/views",
    "/static/index.html", "/static/main.js.map", "/static/MAIN.JS",
])
def test_an_unknown_file_is_not_found(site: Site, path: str) -> None:
    assert site.get(path).status_code == 404
