"""Allow ``python -m studiocut``."""

from __future__ import annotations

import sys

from studiocut.cli import main

sys.exit(main())
