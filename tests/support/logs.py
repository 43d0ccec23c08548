"""Where the servers and workers that tests start write their output: test-logs/, in a folder per
pytest-xdist worker (gw0, gw1, ...) so parallel workers do not write over each other's logs."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def log_file(name: str) -> Path:
    folder = ROOT / "test-logs" / os.environ.get("PYTEST_XDIST_WORKER", "")
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.log"
