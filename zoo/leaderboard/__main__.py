"""``python -m zoo.leaderboard``."""

from __future__ import annotations

import sys

from zoo.leaderboard.cli import main

if __name__ == "__main__":
    sys.exit(main())
