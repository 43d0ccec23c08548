"""Staff UI: the dev outbox, mail caught by the capture SMTP server. Admins only: it holds mail to
real people and their links, password resets of staff accounts among them, which would let anyone
reading it sign in as that account."""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Template

from webapp.core.access import ADMIN_ONLY
from webapp.core.deps import Db
from webapp.core.forms import after_change, optional_id
from webapp.core.http import AnyResponse, StaffRequest
from webapp.outbox import service as outbox

NO_STORE = {"Cache-Control": "no-store"}  # mail to real people, in dev mode too


class OutboxController(Controller):
    path = "/outbox"
    opt = ADMIN_ONLY  # every handler here, including ones added later

    @get("/", name="outbox")
    async def index(self, db: Db, before: FromQuery[str | None] = None, q: FromQuery[str | None] = None) -> Template:
        cursor = optional_id(before)  # anything that is not an id shows the first page
        search = outbox.search_text(q)
        messages = await outbox.page(db, cursor, search=search)
        return Template("outbox/index.html", context={"page": messages, "first_page": cursor is None, "q": search})

    @get("/{message_id:int}")
    async def show(self, db: Db, message_id: FromPath[int]) -> Template:
        message = await outbox.get_message(db, message_id)
        view = await outbox.staff_view(db, message.raw)
        return Template("outbox/show.html", context={"message": message, "view": view})

    @get("/{message_id:int}/raw")
    async def raw(self, db: Db, message_id: FromPath[int]) -> Response[bytes]:
        """The message as received, shown as text (never rendered: nosniff keeps browsers to that)."""
        message = await outbox.get_message(db, message_id)
        return Response(message.raw, media_type="text/plain", headers=NO_STORE)  # Litestar adds the charset

    @get("/{message_id:int}/raw.eml")
    async def download(self, db: Db, message_id: FromPath[int]) -> Response[bytes]:
        """The message as received, as a file a mail client opens."""
        message = await outbox.get_message(db, message_id)
        disposition = f'attachment; filename="outbox-{message.id}.eml"'
        return Response(
            message.raw, media_type="message/rfc822", headers={**NO_STORE, "Content-Disposition": disposition}
        )

    @post("/clear")
    async def clear(self, request: StaffRequest, db: Db) -> AnyResponse:
        count = await outbox.clear(db)
        flash(request, f"Outbox cleared ({count} message{'s' if count != 1 else ''} deleted).", "success")
        return after_change(request, "/outbox")
