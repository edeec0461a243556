"""check: ``studiocut check``: validate profiles and list every problem found."""

from __future__ import annotations

import argparse
import json

from studiocut import cluster, profiles
from studiocut.cli.options import error_lines, profiles_dir
from studiocut.errors import EXIT_OK, EXIT_USAGE, ConfigError, StudiocutError
from studiocut.profiles import folders


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:
    """Add ``check`` to the command line."""
    c = sub.add_parser("check", parents=[common], help="validate profiles",
                       description="Validate profiles (names or paths; default: all in "
                       "--profiles). Exit 0 when all are valid, 2 otherwise.")
    c.add_argument("names", nargs="*", metavar="PROFILE")
    c.add_argument("--json", action="store_true", help="print the result as JSON")
    c.set_defaults(handler=cmd_check)


def cmd_check(args: argparse.Namespace) -> int:
    folder = profiles_dir(args)
    problems: list[str] = []
    checked: list[profiles.Profile] = []
    targets: list[str] = list(args.names)
    if not targets:
        if not folder.is_dir():
            problems.append(f"{folder}: no such profiles folder")
        else:
            targets = [str(p) for p in profiles.files(folder)]
            if not targets:
                problems.append(f"{folder}: no profiles (*.yaml) in this folder")
    home = folder.resolve()

    def runs_here(profile: profiles.Profile) -> bool:
        """Whether the daemon runs ``profile``: a file of the profiles folder."""
        return profile.path is not None and profile.path.parent.resolve() == home

    for target in targets:
        try:
            profile = profiles.resolve(target, folder)
            if runs_here(profile):
                folders.check_runnable(profile)  # the daemon runs these, as hot folders
            checked.append(profile)
        except StudiocutError as e:
            problems.extend(e.problems if isinstance(e, ConfigError) else [str(e)])
    remote = [p for p in checked if p.dispatch.remote and runs_here(p)]
    try:  # the cluster the profiles of this folder run on, when some do
        cluster.check(remote, folder)
    except ConfigError as e:
        problems.extend(e.problems)
        checked = [p for p in checked if p not in remote]
    # what the profiles do to each other's folders (each file's own: its parser's)
    between = [b for b in folders.breaches(checked) if b.others]
    problems.extend(folders.lines(between))
    broken = {name for b in between for name in (b.profile.name, *b.others)}
    names = [profile.name for profile in checked if profile.name not in broken]
    if args.json:
        print(json.dumps({"ok": not problems, "profiles": names, "problems": problems}))
    else:
        for name in names:
            print(f"ok: {name}")
        error_lines(problems)
    return EXIT_USAGE if problems else EXIT_OK
