"""delivery: a photo's renditions written all or none: every temp first, the group told,
then the renames."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import make_profile
from studiocut import atomic
from studiocut.errors import OutputError
from studiocut.imaging import delivery


def _files(out: Path) -> list[tuple[Path, bytes]]:
    return [(out / "a.jpg", b"one"), (out / "z" / "a.jpg", b"two"), (out / "a_p.jpg", b"3")]


def test_every_temp_is_written_before_the_group_is_told_and_renamed(out: Path) -> None:
    seen: list[tuple[Path, Path]] = []

    def staged(pairs: list[tuple[Path, Path]]) -> None:
        assert all(temp.read_bytes() for temp, _ in pairs), "complete before the renames"
        assert not any(dest.exists() for _, dest in pairs), "nothing published yet"
        seen.extend(pairs)

    delivery.write_all(_files(out), make_profile(review=False), output_root=out,
                       source=out / "a.jpg", flags=(), signals=None, staged=staged)

    assert [dest for _, dest in seen] == [f for f, _ in _files(out)]
    assert [f.read_bytes() for f, _ in _files(out)] == [b"one", b"two", b"3"]
    assert not list(out.rglob(f"*{atomic.TEMP_SUFFIX}"))


def test_a_temp_that_cannot_be_written_leaves_nothing_behind(
        out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real, calls = atomic.stage, []

    def third_fails(dest: Path, data: bytes, **kw: object) -> Path:
        calls.append(dest)
        if len(calls) == 3:
            raise OutputError("disk-full", "no space")
        return real(dest, data, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(atomic, "stage", third_fails)
    with pytest.raises(OutputError):
        delivery.write_all(_files(out), make_profile(review=False), output_root=out,
                           source=out / "a.jpg", flags=(), signals=None,
                           staged=lambda pairs: pytest.fail("told of a group not written"))
    assert not [p for p in out.rglob("*") if p.is_file()]


def test_a_held_group_writes_no_output(out: Path) -> None:
    delivery.write_all(_files(out), make_profile(review=False), output_root=out,
                       source=out / "a.jpg", flags=(), signals=None, held=True)
    assert not [p for p in out.rglob("*") if p.is_file()]
