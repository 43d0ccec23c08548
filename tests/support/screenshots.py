"""Screenshots of what browser tests saw, for people to look at (no test reads them): written into
the directory MAILROOM_SHOTS names (e.g. /tmp/shots) when it is set. A full-page PNG costs Chromium
about a second of CPU, so `make test` takes none."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page


def shot(page: Page, name: str) -> None:
    if not (folder := os.environ.get("MAILROOM_SHOTS")):
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
