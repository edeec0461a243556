"""The package stays readable: no module grows past what one person reads in a sitting.

The layers themselves (which folder may import which, no cycles) are import-linter's
contracts in pyproject.toml, checked by `lint-imports` in CI.
"""

from __future__ import annotations

from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "daemon" / "studiocut"
MAX_LINES = 450


@pytest.mark.parametrize("pattern", ["*.py", "*.js"])
def test_no_module_is_longer_than_max_lines(pattern: str) -> None:
    modules = sorted(PACKAGE.rglob(pattern))
    assert modules, f"no {pattern} files under {PACKAGE}"
    too_long = {str(path.relative_to(PACKAGE)): lines for path in modules
                if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not too_long, f"modules over {MAX_LINES} lines: {too_long}"
