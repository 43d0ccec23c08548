"""Staff UI: api_keys."""

from __future__ import annotations

from litestar import Controller


class ApiKeysController(Controller):
    path = "/settings/api-keys"
