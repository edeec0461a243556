"""Profiles of one and of N renditions for ``throughput.py --renditions N``: the same photo
cut out once and delivered N ways, against the first of those ways alone, so the cost of
each extra rendition is read from two runs of the same benchmark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from studiocut import profiles

# What studios deliver beside the listing JPEG, in the order the benchmark adds them.
KINDS: tuple[dict[str, Any], ...] = (
    {"name": "listing"},  # the profile's own output keys
    {"name": "cutout", "backdrop": "transparent", "square": {"size": 1600}, "png_level": 1,
     "format": "png"},
    {"name": "portrait", "canvas": {"width": 1000, "height": 1440}, "fill": 0.85},
    {"name": "thumb", "square": {"size": 800}, "format": "jpeg"},
    {"name": "grey", "backdrop": "#f2f2f2", "square": {"size": 1500}},
)


def settings_of(profile: profiles.Profile, source: str) -> dict[str, Any]:
    """The YAML settings of the profile ``source`` (a .yaml path, or a built-in name)."""
    if source.endswith((".yaml", ".yml")):
        return yaml.safe_load(Path(source).read_text(encoding="utf-8")) or {}
    backdrop = "transparent"
    if profile.backdrop is not None:
        backdrop = "#{:02x}{:02x}{:02x}".format(*profile.backdrop)
    return {"backdrop": backdrop, "square": profile.square is not None,
            "format": profile.encoding.format}


def write(profile: profiles.Profile, source: str, count: int, folder: Path) -> Path:
    """Write the profile ``source`` with ``count`` renditions (each but the first in a
    folder of its own) into ``folder``; return its path."""
    if not 1 <= count <= len(KINDS):
        raise ValueError(f"--renditions: 1 to {len(KINDS)}, not {count}")
    settings = settings_of(profile, source)
    settings.pop("renditions", None)
    if count > 1:
        settings["renditions"] = [dict(kind, **({"folder": kind["name"]} if index else {}))
                                  for index, kind in enumerate(KINDS[:count])]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{profile.name}-renditions-{count}.yaml"
    path.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return path
