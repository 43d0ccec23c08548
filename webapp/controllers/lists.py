"""Staff UI: lists."""

from __future__ import annotations

from litestar import Controller


class ListsController(Controller):
    path = "/lists"
