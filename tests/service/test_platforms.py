"""platforms: each sys.platform gets its service manager's plan; others are refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from studiocut.errors import ConfigError
from studiocut.service import platforms
from studiocut.service.spec import Spec


def test_an_unsupported_platform_is_a_configuration_error(
        make_spec: Callable[..., Spec]) -> None:
    with pytest.raises(ConfigError, match="no service manager support for sunos5"):
        platforms.install_plan("sunos5", make_spec())
