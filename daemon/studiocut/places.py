"""places: the default folders, the same for every subcommand (from platformdirs)."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_config_path, user_pictures_path, user_state_path


def profiles_dir() -> Path:
    """Where profiles live unless ``--profiles`` says otherwise."""
    env = os.environ.get("STUDIOCUT_PROFILES")
    return Path(env).expanduser() if env else user_config_path("studiocut", False) / "profiles"


def state_dir() -> Path:
    """Where the journal, lock and logs live unless ``--state`` says otherwise."""
    env = os.environ.get("STUDIOCUT_STATE")
    return Path(env).expanduser() if env else user_state_path("studiocut", False)


def default_inbox() -> Path:
    """The folder the built-in default profile watches."""
    return user_pictures_path() / "studiocut" / "inbox"


def default_outbox() -> Path:
    """The folder the built-in default profile writes to."""
    return user_pictures_path() / "studiocut" / "outbox"
