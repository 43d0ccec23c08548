"""Staff UI: the dev outbox, mail caught by the capture SMTP server (read by all, cleared by editors)."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.plugins.flash import flash
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.forms import after_change, optional_id
from webapp.core.http import AnyResponse, StaffRequest
from webapp.outbox import service as outbox


class OutboxController(Controller):
    path = "/outbox"

    @get("/", name="outbox")
    async def index(self, db: AsyncSession, before: str | None = None) -> Template:
        cursor = optional_id(before)  # anything that is not an id shows the first page
        messages = await outbox.page(db, cursor)
        return Template("outbox/index.html", context={"page": messages, "first_page": cursor is None})

    @get("/{message_id:int}")
    async def show(self, db: AsyncSession, message_id: int) -> Template:
        message = await outbox.get_message(db, message_id)
        return Template("outbox/show.html", context={"message": message, "view": outbox.view(message.raw)})

    @post("/clear")
    async def clear(self, request: StaffRequest, db: AsyncSession) -> AnyResponse:
        count = await outbox.clear(db)
        flash(request, f"Outbox cleared ({count} message{'s' if count != 1 else ''} deleted).", "success")
        return after_change(request, "/outbox")
