"""Staff UI: users."""

from __future__ import annotations

from litestar import Controller


class UsersController(Controller):
    path = "/settings/users"
