"""JSON API: /api/lists."""

from __future__ import annotations

from litestar import Controller


class ApiListsController(Controller):
    path = "/lists"
