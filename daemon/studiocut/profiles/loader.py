"""loader: profile files read safely (size, tags and alias bombs refused), one file, a
folder of them, or a name resolved, and the built-in default profile.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from studiocut.errors import ConfigError
from studiocut.profiles.parser import parse
from studiocut.profiles.schema import DEFAULT_INCLUDE, Canvas, Encoding, Profile

MAX_PROFILE_BYTES = 1_000_000
MAX_YAML_NODES = 10_000

class _SafeLoader(yaml.SafeLoader):
    """safe_load with a bound on nodes, so alias bombs ("billion laughs") are refused."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._nodes = 0

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        self._nodes += 1
        if self._nodes > MAX_YAML_NODES:
            raise yaml.YAMLError(f"more than {MAX_YAML_NODES} values (an alias bomb?)")
        return super().construct_object(node, deep)


def _count_expanded(node: Any, seen: dict[int, int], depth: int = 0) -> int:
    """Count nodes as if aliases were expanded, without expanding them."""
    key = id(node)
    if key in seen:
        return seen[key]
    total = 1
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            total += _count_expanded(child, seen, depth + 1)
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            total += _count_expanded(k, seen, depth + 1) + _count_expanded(v, seen, depth + 1)
    seen[key] = total
    return total


def read_yaml(path: Path) -> object:
    """Return the data of a YAML file, refusing big files, tags and alias bombs; raise
    ConfigError naming the file."""
    try:
        size = path.stat().st_size
        if size > MAX_PROFILE_BYTES:
            raise ConfigError([f"{path}: file is {size} bytes; profiles are limited to "
                               f"{MAX_PROFILE_BYTES} bytes"])
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError([f"{path}: cannot read: {e.strerror or e}"]) from e
    except UnicodeDecodeError as e:
        raise ConfigError([f"{path}: not UTF-8 text: {e}"]) from e
    return load_yaml_text(text, str(path))


def load_yaml_text(text: str, source: str) -> object:
    """Parse one YAML document safely; raise ConfigError with ``source`` in the message."""
    if len(text.encode("utf-8")) > MAX_PROFILE_BYTES:
        raise ConfigError([f"{source}: larger than {MAX_PROFILE_BYTES} bytes"])
    try:
        loader = _SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            if _count_expanded(node, {}) > MAX_YAML_NODES:
                raise yaml.YAMLError(f"more than {MAX_YAML_NODES} values once aliases are "
                                     "expanded (an alias bomb?)")
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.constructor.ConstructorError as e:
        raise ConfigError([f"{source}: refused: {e.problem} (only plain YAML is allowed, "
                           "no tags such as !!python/object)"]) from e
    except yaml.YAMLError as e:
        raise ConfigError([f"{source}: not valid YAML: {_yaml_message(e)}"]) from e
    except RecursionError as e:  # the composer recurses once per level of nesting
        raise ConfigError([f"{source}: refused: values nested too deeply"]) from e


def _yaml_message(e: yaml.YAMLError) -> str:
    mark = getattr(e, "problem_mark", None)
    problem = getattr(e, "problem", None) or str(e)
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark else problem


def load(path: Path, *, name: str | None = None) -> Profile:
    """Return the Profile in ``path``; raise ConfigError listing every problem."""
    data = read_yaml(path)
    return parse(data, name=name or path.stem, source=str(path), base=path.parent)


def files(folder: Path) -> list[Path]:
    """The profile files of a folder (``*.yaml``, ``*.yml``, not hidden), in name order; none
    when the folder does not exist."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.suffix in (".yaml", ".yml") and not p.name.startswith("."))


def load_dir(folder: Path) -> dict[str, Profile]:
    """Return every profile (``*.yaml``, ``*.yml``) in ``folder`` by name; raise ConfigError
    with the problems of all files together."""
    profiles: dict[str, Profile] = {}
    problems: list[str] = []
    for path in files(folder):
        try:
            profiles[path.stem] = load(path)
        except ConfigError as e:
            problems.extend(e.problems)
    if problems:
        raise ConfigError(problems)
    return profiles


def resolve(name_or_path: str, profiles_dir: Path | None) -> Profile:
    """Return the profile named ``name_or_path`` in ``profiles_dir``, or the file at that path,
    or the built-in ``default``; raise ConfigError if none exists."""
    candidate = Path(name_or_path).expanduser()
    if candidate.suffix in (".yaml", ".yml") or candidate.is_file():
        if not candidate.is_file():
            raise ConfigError([f"{candidate}: no such profile file"])
        return load(candidate)
    if profiles_dir is not None:
        for ext in (".yaml", ".yml"):
            path = profiles_dir / f"{name_or_path}{ext}"
            if path.is_file():
                return load(path)
    if name_or_path == "default":
        return builtin_default()
    where = f" in {profiles_dir}" if profiles_dir else ""
    raise ConfigError([f"{name_or_path}: no such profile{where} (give a profile name or a "
                       "path to a .yaml file)"])


def builtin_default(watch: Path | None = None, output: Path | None = None) -> Profile:
    """The profile a new user gets: ``auto`` (the embedded u2netp, with the studio path on a
    plain backdrop), white backdrop, 2000 px square JPEG."""
    return Profile(
        name="default", watch=watch, output=output, model="auto",
        backdrop=(255, 255, 255), canvas=Canvas(), encoding=Encoding(format="jpeg"),
        include=DEFAULT_INCLUDE,
    )
