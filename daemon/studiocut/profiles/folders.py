"""folders: the one rule for where profiles may write, as the file system sees the folders.

A hot folder must never write into a folder a profile watches: its outputs (or another
profile's) would be taken as new photos, an original could be overwritten, and the photo would
loop. Two profiles must not write into one output tree where their file names can collide: one
would overwrite the other's finished work. Folders are compared after resolving symbolic links,
and without case where the file system ignores it (macOS and Windows by default), so a link or
a differently cased name cannot slip past the rule.

``check``, the daemon at start and at every reload, the publisher before each write and
``studiocut process --out`` all apply this module; nothing else decides it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from studiocut.errors import ConfigError
from studiocut.profiles.fields import Problems
from studiocut.profiles.renditions import with_suffix
from studiocut.profiles.schema import Profile, Rendition, Review

# the name template's fields that vary from photo to photo (the others are the same for every
# photo of a profile)
_PER_PHOTO = ("{stem}", "{source_ext}", "{sku}", "{view}")


@dataclass(frozen=True)
class Place:
    """A folder (or file) as the file system sees it: links resolved, case folded where it
    is ignored."""

    parts: tuple[str, ...]

    @classmethod
    def of(cls, path: Path) -> Place:
        real = Path(os.path.realpath(path))
        parts = real.parts
        if ignores_case(real):
            parts = tuple(part.casefold() for part in parts)
        return cls(parts)

    def within(self, other: Place) -> bool:
        """Whether this folder is ``other`` or below it."""
        return self.parts[:len(other.parts)] == other.parts


def ignores_case(path: Path) -> bool:
    """Whether the file system holding ``path`` (or its nearest existing folder) finds names
    regardless of case: the same entry is found under the name with its case swapped."""
    probe = path
    while not probe.exists() or probe.name.swapcase() == probe.name:
        if probe.parent == probe:
            return False
        probe = probe.parent
    try:
        return os.path.samefile(probe, probe.with_name(probe.name.swapcase()))
    except OSError:
        return False


def check_runnable(profile: Profile) -> None:
    """A profile the daemon runs needs folders, which ``process`` does not: raise
    ConfigError naming each missing key."""
    missing = [key for key in ("watch", "output") if getattr(profile, key) is None]
    if missing:
        source = profile.path or profile.name
        raise ConfigError([f"{source}: At '{key}': required to run as a hot folder "
                           "(got nothing; expected a folder path)" for key in missing])


def written(profile: Profile) -> list[tuple[str, Path]]:
    """The folders ``profile`` writes into, each with the key that names it."""
    folders: list[tuple[str, Path]] = []
    if profile.output is not None:
        folders.append(("output", profile.output))
        folders.extend((f"renditions[{i}].folder", profile.output / r.folder)
                       for i, r in enumerate(profile.renditions) if r.folder)
        if profile.review is not None:
            folders.append(("review.folder", review_folder(profile.review, profile.output)))
    if profile.failed is not None:
        folders.append(("failed", profile.failed))
    if profile.move_to is not None:
        folders.append(("after.move", profile.move_to))
    return folders


def review_folder(rules: Review, output: Path) -> Path:
    """Where flagged copies go: the profile's review folder, or ``<output>-review`` beside
    the output folder."""
    return rules.folder or output.with_name(output.name + "-review")


def watches(profile: Profile, folder: Path | Place) -> bool:
    """Whether a file written into ``folder`` would be seen by ``profile`` as a new photo."""
    if profile.watch is None:
        return False
    place = folder if isinstance(folder, Place) else Place.of(folder)
    watched = Place.of(profile.watch)
    return place == watched or (profile.recursive and place.within(watched))


def watcher_of(path: Path, profiles: Sequence[Profile]) -> Profile | None:
    """The first of ``profiles`` that would take a file written at ``path`` as a new photo."""
    folder = Place.of(path.parent)
    return next((profile for profile in profiles if watches(profile, folder)), None)


@dataclass(frozen=True)
class Breach:
    """One breach of the rule: ``key`` of ``profile`` names a folder it must not write into
    (``others``: the other profiles involved, none when the profile breaks it alone)."""

    profile: Profile
    key: str
    problem: str
    got: str
    expected: str
    others: tuple[str, ...] = ()


def breaches(profiles: Sequence[Profile]) -> list[Breach]:
    """Every breach among ``profiles``: a folder one of them writes into that one of them
    watches, and two output trees that overlap where file names can be the same."""
    found: list[Breach] = []
    for profile in profiles:
        for key, folder in written(profile):
            for other in profiles:
                if not watches(other, folder):
                    continue
                assert other.watch is not None
                links = _links(folder, other.watch)
                if other is profile and Place.of(folder) == Place.of(other.watch):
                    found.append(Breach(profile, key, f"this folder is the watched folder{links}",
                                        str(folder), "a separate folder"))
                    continue
                whose = "the" if other is profile else f"profile {other.name}'s"
                found.append(Breach(
                    profile, key, f"this folder is inside {whose} watched folder{links}, so "
                    "what is written there would be taken as new photos", str(folder),
                    f"a folder outside {other.watch}",
                    () if other is profile else (other.name,)))
    for index, profile in enumerate(profiles):
        for other in profiles[index + 1:]:
            if _outputs_may_collide(profile, other):
                found.append(Breach(
                    profile, "output", f"profile {other.name} writes into this output folder "
                    f"too ({other.output}), and their file names can be the same, so one "
                    "would overwrite the other's results", str(profile.output),
                    "separate output folders, or name templates that differ in a fixed part "
                    "such as {profile} or the format", (other.name,)))
    return found


def problems(profiles: Sequence[Profile], *, between: bool = False) -> list[str]:
    """The breaches among ``profiles`` as ``<file>: At 'key': ...`` lines; with ``between``
    only those that involve two profiles (each file's own are its parser's to report)."""
    return lines([b for b in breaches(profiles) if b.others or not between])


def lines(found: Sequence[Breach]) -> list[str]:
    """Each breach as the ``<file>: At 'key': ...`` line every profile problem reads as."""
    result: list[str] = []
    for breach in found:
        problem = Problems(str(breach.profile.path or breach.profile.name))
        problem.add(breach.key, breach.problem, breach.got, breach.expected)
        result.extend(problem.items)
    return result


def _outputs_may_collide(a: Profile, b: Profile) -> bool:
    if a.output is None or b.output is None:
        return False
    for one in a.all_renditions:
        for other in b.all_renditions:
            first = Place.of(a.output / one.folder)
            second = Place.of(b.output / other.folder)
            if not (first.within(second) or second.within(first)):
                continue
            head_a, tail_a = _fixed_ends(a, one)
            head_b, tail_b = _fixed_ends(b, other)
            heads_differ = not (head_a.startswith(head_b) or head_b.startswith(head_a))
            tails_differ = not (tail_a.endswith(tail_b) or tail_b.endswith(tail_a))
            if not (heads_differ or tails_differ):
                return True
    return False


def _fixed_ends(profile: Profile, rendition: Rendition) -> tuple[str, str]:
    """The text every output name of ``rendition`` starts with and ends with: its name
    template up to the first and after the last field that changes from photo to photo."""
    enc = rendition.encoding
    template = enc.name.replace("{ext}", enc.ext).replace("{profile}", profile.name)
    template = template.replace("{rendition}", rendition.name)
    template = with_suffix(template, rendition.suffix)
    cuts = [template.find(field) for field in _PER_PHOTO if field in template]
    ends = [template.rfind(field) + len(field) for field in _PER_PHOTO if field in template]
    if not cuts:
        return template, template
    return template[:min(cuts)], template[max(ends):]


def _links(*paths: Path | None) -> str:
    """Where a link hides the overlap: " (through a link: A is B)", or nothing."""
    for path in paths:
        if path is not None and os.path.realpath(path) != os.path.abspath(path):
            return f" (through a link: {path} is {os.path.realpath(path)})"
    return ""
