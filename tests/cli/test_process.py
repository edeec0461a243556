"""process: files and folders cut out once, outside the daemon."""

from __future__ import annotations

import pytest

from studiocut import cli


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
