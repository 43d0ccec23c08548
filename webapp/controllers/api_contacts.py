"""JSON API: /api/contacts."""

from __future__ import annotations

from litestar import Controller


class ApiContactsController(Controller):
    path = "/contacts"
