"""download: ``studiocut models pull`` against a local HTTP server on 127.0.0.1.

The server serves files from a folder under tmp_path and answers Range requests itself
(SimpleHTTPRequestHandler does not). It can cut the connection after N bytes (the first time,
or every time), ignore Range headers or answer with something that is not HTTP, and it records
every request it gets. The weights served are a copy of the embedded u2netp file, registered
as a model of their own. Nothing but 127.0.0.1 is ever addressed (proxies are switched off)."""

from __future__ import annotations

import hashlib
import http.server
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from studiocut import cli
from studiocut.errors import ModelError
from studiocut.models import download, predict
from studiocut.models.download import Artifact
from studiocut.models.registry import MODELS, ModelSpec

NAME = "test-u2netp"
FILE = "test-u2netp.onnx"
U2NETP = MODELS["u2netp"]


# --------------------------------------------------------------------------- the server


@dataclass
class Served:
    """What the handler does, and what it saw."""

    root: Path
    port: int = 0
    cut_after: int | None = None  # close after this many body bytes, the first time only
    cut_always: bool = False  # ... every time
    ranges: bool = True  # honour Range headers
    garbage: bool = False  # answer with something that is not HTTP
    requests: list[dict[str, str | None]] = field(default_factory=list)

    def url(self, file: str = FILE) -> str:
        return f"http://127.0.0.1:{self.port}/{file}"


class Handler(http.server.BaseHTTPRequestHandler):
    served: Served  # set on a subclass per server

    def do_GET(self) -> None:
        served = self.served
        requested = self.headers.get("Range")
        served.requests.append({"path": self.path, "range": requested})
        if served.garbage:
            self.wfile.write(b"SSH-2.0-OpenSSH\r\n\r\n")
            self.close_connection = True
            return
        path = served.root / self.path.lstrip("/")
        if "/" in self.path.lstrip("/") or not path.is_file():
            self.send_error(404, "Not Found")
            return
        data = path.read_bytes()
        start = 0
        if requested and served.ranges:
            start = int(requested.removeprefix("bytes=").split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if served.cut_after is not None:
            body = body[:served.cut_after]
            served.cut_after = served.cut_after if served.cut_always else None
            self.close_connection = True
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """An HTTP server on 127.0.0.1 serving tmp_path/served; stopped and joined at the end."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setattr("studiocut.models.download.time.sleep", lambda seconds: None)  # no back-off
    served = Served(tmp_path / "served")
    served.root.mkdir()
    handler = type("BoundHandler", (Handler,), {"served": served})
    httpd = http.server.HTTPServer(("127.0.0.1", 0), handler)
    served.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              name="test-http-server")
    thread.start()
    try:
        yield served
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


# --------------------------------------------------------------------------- registry


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """STUDIOCUT_MODELS under tmp_path and a registry entry for a copy of the u2netp weights."""
    folder = tmp_path / "models"
    monkeypatch.setenv("STUDIOCUT_MODELS", str(folder))
    monkeypatch.setitem(MODELS, NAME, ModelSpec(NAME, "u2net", FILE, U2NETP.md5, U2NETP.sha256,
                                                size_mb=4.6))
    monkeypatch.setattr(predict, "_loaded", {})
    return folder



def weights() -> bytes:
    return predict.weights_path(U2NETP).read_bytes()


def serve(server: Served, name: str = FILE, data: bytes | None = None) -> bytes:
    data = weights() if data is None else data
    (server.root / name).write_bytes(data)
    return data


def damaged(data: bytes, at: int = 1_000_000) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --------------------------------------------------------------------------- pull over HTTP


def test_pull_downloads_verifies_and_installs_the_weights(
    server: Served, models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = serve(server)

    code = cli.main(["models", "pull", NAME, "--from", server.url()])

    assert code == 0
    installed = models / FILE
    assert installed.read_bytes() == data
    assert leftovers(models) == [FILE]  # no .part left
    assert f"installed {installed}" in capsys.readouterr().out
    assert server.requests == [{"path": f"/{FILE}", "range": None}]
    predict.verify(MODELS[NAME], installed)
    assert predict.installed(MODELS[NAME])


def test_a_cut_download_resumes_with_a_range_request(
    server: Served, models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = serve(server)
    server.cut_after = 1_500_000

    code = cli.main(["models", "pull", NAME, "--from", server.url()])

    assert code == 0, capsys.readouterr().err
    assert [r["range"] for r in server.requests] == [None, "bytes=1500000-"]
    assert (models / FILE).read_bytes() == data
    predict.verify(MODELS[NAME], models / FILE)
    assert leftovers(models) == [FILE]
    assert "download interrupted" in capsys.readouterr().err


def test_a_part_file_left_by_an_earlier_run_is_resumed_not_restarted(
    server: Served, models: Path
) -> None:
    data = serve(server)
    models.mkdir()
    (models / f".{FILE}.part").write_bytes(data[:3_000_000])

    path = download.install(Artifact(FILE, U2NETP.md5, U2NETP.sha256), server.url(), models)

    assert server.requests == [{"path": f"/{FILE}", "range": "bytes=3000000-"}]
    assert path.read_bytes() == data


def test_a_complete_part_file_is_checked_and_installed_when_the_range_is_past_the_end(
    server: Served, models: Path
) -> None:
    data = serve(server)
    models.mkdir()
    (models / f".{FILE}.part").write_bytes(data)

    path = download.install(Artifact(FILE, U2NETP.md5, U2NETP.sha256), server.url(), models)

    assert server.requests[0]["range"] == f"bytes={len(data)}-"
    assert path.read_bytes() == data and leftovers(models) == [FILE]


def test_a_server_that_ignores_the_range_starts_the_file_again(
    server: Served, models: Path
) -> None:
    data = serve(server)
    server.cut_after, server.ranges = 700_000, False

    path = download.install(Artifact(FILE, U2NETP.md5, U2NETP.sha256), server.url(), models)

    assert [r["range"] for r in server.requests] == [None, "bytes=700000-"]
    assert path.read_bytes() == data  # not the first 700000 bytes twice


def test_progress_is_reported_up_to_the_total(server: Served, models: Path) -> None:
    data = serve(server)
    server.cut_after = 2_000_000
    seen: list[tuple[int, int | None]] = []

    download.install(Artifact(FILE, U2NETP.md5, U2NETP.sha256), server.url(), models,
                     progress=lambda done, total: seen.append((done, total)))

    assert seen[-1] == (len(data), len(data))
    assert (2_000_000, len(data)) in seen
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_a_checksum_mismatch_is_refused_and_nothing_is_installed(
    server: Served, models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(server, data=damaged(weights()))

    code = cli.main(["models", "pull", NAME, "--from", server.url()])

    assert code != 0
    err = capsys.readouterr().err
    assert f"{FILE}: checksum mismatch (sha256 " in err
    assert f"expected {U2NETP.sha256}" in err and "nothing was installed" in err
    assert leftovers(models) == []  # no final file, no .part
    assert not predict.installed(MODELS[NAME])


def test_a_download_that_keeps_failing_says_to_run_it_again_and_keeps_the_part(
    server: Served, models: Path
) -> None:
    serve(server)

    server.cut_after, server.cut_always = 100_000, True

    with pytest.raises(ModelError) as caught:
        download.install(Artifact(FILE, U2NETP.md5, U2NETP.sha256), server.url(), models,
                         attempts=3)

    assert "download failed after 3 attempts" in str(caught.value)
    assert "run the same command again to resume" in str(caught.value)
    assert len(server.requests) == 3
    assert leftovers(models) == [f".{FILE}.part"]
    assert (models / f".{FILE}.part").stat().st_size == 300_000
    assert not (models / FILE).exists()


def test_a_server_that_does_not_speak_http_is_a_model_error_not_a_crash(
    server: Served, models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(server)
    server.garbage = True

    code = cli.main(["models", "pull", NAME, "--from", server.url()])

    assert code != 0
    assert "download failed after 5 attempts" in capsys.readouterr().err
    assert not (models / FILE).exists()


def test_a_missing_file_on_the_server_is_an_http_error(
    server: Served, models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["models", "pull", NAME, "--from", server.url("nowhere.onnx")])

    assert code != 0
    assert "HTTP 404" in capsys.readouterr().err
    assert leftovers(models) == []


def test_from_a_base_address_appends_the_file_name(server: Served, models: Path) -> None:
    data = serve(server)

    code = cli.main(["models", "pull", NAME, "--from", server.url("")])

    assert code == 0
    assert server.requests[0]["path"] == f"/{FILE}"
    assert (models / FILE).read_bytes() == data


def sam_spec(encoder: bytes, decoder: bytes) -> ModelSpec:
    return ModelSpec("test-sam", "sam", "test-sam.encoder.onnx", hashlib.md5(encoder).hexdigest(),
                     input_size=(1024, 684),
                     extra=(Artifact("test-sam.decoder.onnx", hashlib.md5(decoder).hexdigest()),))


def test_a_two_file_model_is_pulled_file_by_file_from_a_base_address(
    server: Served, models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoder, decoder = b"encoder bytes" * 1000, b"decoder bytes" * 500
    serve(server, "test-sam.encoder.onnx", encoder)
    serve(server, "test-sam.decoder.onnx", decoder)
    monkeypatch.setitem(MODELS, "test-sam", sam_spec(encoder, decoder))

    code = cli.main(["models", "pull", "test-sam", "--from", server.url("")])

    assert code == 0
    assert [r["path"] for r in server.requests] == ["/test-sam.encoder.onnx",
                                                    "/test-sam.decoder.onnx"]
    assert (models / "test-sam.encoder.onnx").read_bytes() == encoder
    assert (models / "test-sam.decoder.onnx").read_bytes() == decoder
    assert predict.installed(MODELS["test-sam"])


# --------------------------------------------------------------------------- pull from files


def test_pull_from_a_local_file_installs_a_copy(
    tmp_path: Path, models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "usb" / "weights.onnx"
    source.parent.mkdir()
    shutil.copyfile(predict.weights_path(U2NETP), source)

    code = cli.main(["models", "pull", NAME, "--from", str(source)])

    assert code == 0
    assert (models / FILE).read_bytes() == source.read_bytes()
    assert source.is_file()  # copied, not moved
    assert leftovers(models) == [FILE]
    assert f"installed {models / FILE}" in capsys.readouterr().out


def test_pull_from_a_damaged_local_file_installs_nothing(
    tmp_path: Path, models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "weights.onnx"
    source.write_bytes(damaged(weights()))

    code = cli.main(["models", "pull", NAME, "--from", str(source)])

    assert code != 0
    assert "checksum mismatch" in capsys.readouterr().err
    assert leftovers(models) == []


def test_pull_from_a_local_file_that_does_not_exist_says_so(
    tmp_path: Path, models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["models", "pull", NAME, "--from", str(tmp_path / "missing.onnx")])

    assert code != 0
    assert f"{tmp_path / 'missing.onnx'}: no such file" in capsys.readouterr().err
    assert leftovers(models) == []


def test_a_two_file_model_is_pulled_from_a_local_folder(
    tmp_path: Path, models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoder, decoder = b"e" * 5000, b"d" * 3000
    usb = tmp_path / "usb"
    usb.mkdir()
    (usb / "test-sam.encoder.onnx").write_bytes(encoder)
    (usb / "test-sam.decoder.onnx").write_bytes(decoder)
    monkeypatch.setitem(MODELS, "test-sam", sam_spec(encoder, decoder))

    assert cli.main(["models", "pull", "test-sam", "--from", str(usb)]) == 0

    assert leftovers(models) == ["test-sam.decoder.onnx", "test-sam.encoder.onnx"]


def test_a_two_file_model_from_a_single_file_is_refused(
    tmp_path: Path, models: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = tmp_path / "encoder.onnx"
    source.write_bytes(b"e")
    monkeypatch.setitem(MODELS, "test-sam", sam_spec(b"e", b"d"))

    code = cli.main(["models", "pull", "test-sam", "--from", str(source)])

    assert code == 2
    assert "test-sam has 2 files; give --from a folder" in capsys.readouterr().err
    assert leftovers(models) == []


def test_pulling_an_embedded_model_downloads_nothing(
    models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["models", "pull", "u2netp"]) == 0

    assert "needs no download" in capsys.readouterr().out
    assert leftovers(models) == []


def test_pulling_an_unknown_model_lists_the_known_ones(
    models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["models", "pull", "u3net"]) == 2

    assert "unknown model 'u3net'" in capsys.readouterr().err
