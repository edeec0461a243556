"""fields: one value of a profile, checked: the parsers every section uses, and the one way
every problem is worded, ``<file>: At '<dotted.key>': <problem> (got <value>; expected
<choices>)``, with a did-you-mean for a misspelt key.

Each parser takes the value (``MISSING`` when the key is absent), the key path, and the file's
``Problems``; it returns the value, or records a problem and returns the default.
"""

from __future__ import annotations

import difflib
import os
import re
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from studiocut.profiles.schema import NAME_FIELDS, Rgb


class Problems:
    """Collects findings of one file, formatted the one way every finding is formatted."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[str] = []

    def add(self, key: str, problem: str, got: object = None, expected: str | None = None) -> None:
        detail = []
        if got is not None:
            detail.append(f"got {_show(got)}")
        if expected:
            detail.append(f"expected {expected}")
        suffix = f" ({'; '.join(detail)})" if detail else ""
        self.items.append(f"{self.source}: At '{key}': {problem}{suffix}")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


MISSING = object()


def unknown_keys(
    data: Mapping[str, Any], known: tuple[str, ...], prefix: str, p: Problems
) -> None:
    for key in data:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"one of {', '.join(known)}"
        p.add(f"{prefix}{key}", "unknown key", expected=hint)


def parse_bool(value: object, key: str, p: Problems, default: bool) -> bool:
    if value is MISSING:
        return default
    if isinstance(value, bool):
        return value
    p.add(key, "must be true or false", value, "true | false")
    return default


def parse_number(
    value: object, key: str, p: Problems, default: float, *, lo: float, hi: float,
    integer: bool = False,
) -> Any:
    if value is MISSING:
        return default
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type:
        kind = "an integer" if integer else "a number"
        p.add(key, f"must be {kind}", value, f"{lo:g} to {hi:g}")
        return default
    assert isinstance(value, (int, float))
    if not lo <= value <= hi:
        p.add(key, "out of range", value, f"{lo:g} to {hi:g}")
        return default
    return value


def parse_choice(
    value: object, key: str, p: Problems, default: str, choices: tuple[str, ...]
) -> Any:
    if value is MISSING:
        return default
    if isinstance(value, str) and value.lower() in choices:
        return value.lower()
    p.add(key, "not a valid choice", value, " | ".join(choices))
    return default


def parse_path(value: object, key: str, p: Problems, base: Path | None) -> Path | None:
    if value is MISSING or value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        p.add(key, "must be a folder path", value, "a path such as ~/studio/inbox")
        return None
    path = Path(value).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    return Path(_normpath(path))


def _normpath(path: Path) -> str:
    return os.path.normpath(os.path.abspath(path))


def parse_globs(value: object, key: str, p: Problems) -> tuple[str, ...]:
    if value is MISSING or value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    p.add(key, "must be a list of file patterns", value, "e.g. ['*.jpg', '*.tif']")
    return ()


_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


def parse_colour(value: object) -> Rgb | None:
    """Return (r, g, b) for ``"#RRGGBB"``, None for ``transparent``; raise ValueError otherwise."""
    if isinstance(value, str):
        if value.strip().lower() == "transparent":
            return None
        m = _HEX.match(value.strip())
        if m:
            h = m.group(1)
            return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))
    if (
        isinstance(value, list)
        and len(value) == 3
        and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value)
    ):
        return (value[0], value[1], value[2])
    raise ValueError(value)


def check_name_template(template: str) -> str | None:
    """Return a problem with an output-name template, or None when it is safe.

    Only the fields in NAME_FIELDS are allowed, with no attribute or index access and no
    conversion; the result may not name a folder (no separators, no ``..``)."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as e:
        return f"not a valid template: {e}"
    fields = []
    for literal, name, spec, conversion in parts:
        if "/" in literal or "\\" in literal or ":" in literal or "\x00" in literal:
            return "may not contain path separators"
        if name is None:
            continue
        if name not in NAME_FIELDS:
            return f"unknown field '{{{name}}}'"
        if spec or conversion:
            return f"field '{{{name}}}' may not have a format spec or conversion"
        fields.append(name)
    if "stem" not in fields and not {"sku", "view"} <= set(fields):
        return "must contain {stem} (or {sku} and {view}), or every photo would get the same name"
    rendered = template.format(stem="x", ext="jpg", source_ext="cr2", profile="p",
                               rendition="r", sku="s", view=1)
    if rendered.startswith(".") or rendered in ("", ".", ".."):
        return "may not start with a dot"
    return None


def parse_fraction_or_off(value: object, key: str, p: Problems, default: float | None) -> Any:
    if value is MISSING:
        return default
    if value is None or value is False:
        return None
    return parse_number(value, key, p, default or 0.0, lo=0.0, hi=1.0)
