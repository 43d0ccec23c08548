"""Staff UI: contacts."""

from __future__ import annotations

from litestar import Controller


class ContactsController(Controller):
    path = "/contacts"
