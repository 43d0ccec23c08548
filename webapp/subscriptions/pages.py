"""Staff UI: a re-permission request from a contact's page (/contacts/{id}/repermission): which list
they are asked to rejoin, then the confirmation email. The rules are in service/repermission.py."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts import service as contacts
from webapp.contacts.models import Contact
from webapp.core.access import EDITORS_ONLY
from webapp.core.config import get_settings
from webapp.core.deps import Db
from webapp.core.errors import Conflict, TooManyAttempts, ValidationFailed
from webapp.core.forms import after_change, first, read_form
from webapp.core.http import AnyResponse, StaffRequest
from webapp.core.redis import get_redis
from webapp.subscriptions.actors import enqueue_confirmation
from webapp.subscriptions.service import repermission


async def _page(
    db: AsyncSession,
    contact: Contact,
    chosen: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    try:
        await repermission.check_askable(db, contact)
        refusal = ""
    except Conflict as exc:
        refusal = exc.message
    choices = await repermission.list_choices(db)
    return Template(
        "contacts/repermission.html",
        context={
            "contact": contact,
            "refusal": refusal,
            "list_options": [("", "Choose a list"), *((str(item.id), item.name) for item in choices)],
            "chosen": chosen,
            "errors": errors or {},
        },
        status_code=status_code,
        headers=headers,
    )


class RepermissionController(Controller):
    path = "/contacts"

    @get("/{contact_id:int}/repermission", opt=EDITORS_ONLY)
    async def form(self, db: Db, contact_id: FromPath[int]) -> Template:
        return await _page(db, await contacts.get_contact(db, contact_id))

    @post("/{contact_id:int}/repermission", status_code=200)
    async def send(self, request: StaffRequest, db: Db, contact_id: FromPath[int]) -> AnyResponse:
        contact = await contacts.get_contact(db, contact_id)
        chosen = first(await read_form(request), "list_id")
        settings = get_settings().subscriptions
        try:
            asked = await repermission.request(
                db, get_redis(), settings, contact.id, {"list_id": chosen}, request.user.name
            )
        except ValidationFailed as exc:
            return await _page(db, contact, chosen, exc.errors, 422)
        except TooManyAttempts as exc:
            retry = {"Retry-After": str(exc.retry_after)}
            return await _page(db, contact, chosen, {"list_id": exc.message}, 429, retry)
        await db.commit()  # the worker must find the consent record
        await enqueue_confirmation(asked.subscription_id)
        flash(
            request,
            f"A re-permission request for {asked.email_list.name} is on its way to {asked.email}. "
            "Nothing changes until they confirm.",
            "success",
        )
        return after_change(request, f"/contacts/{contact.id}")
