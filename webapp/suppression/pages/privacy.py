"""Staff UI: a contact's GDPR export (a JSON download) and erasure (a confirmation page on which the
address must be typed). Erasing needs editor, like deleting a contact: it is a delete that also keeps
the address suppressed, so it never lets mail reach anyone who could not be mailed before."""

from __future__ import annotations

import json

from litestar import Controller, Request, Response, get, post
from litestar.plugins.flash import flash
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts import service as contacts
from webapp.core.access import EDITORS_ONLY
from webapp.core.forms import Form, after_change
from webapp.suppression.service import gdpr


def _erase_page(contact, typed: str = "", error: str = "", status_code: int = 200) -> Template:
    return Template(
        "contacts/erase.html", context={"contact": contact, "typed": typed, "error": error}, status_code=status_code
    )


class ContactPrivacyController(Controller):
    path = "/contacts"

    @get("/{contact_id:int}/export")
    async def export(self, db: AsyncSession, contact_id: int) -> Response[bytes]:
        data = await gdpr.export_contact(db, contact_id)
        body = json.dumps(data, indent=2, ensure_ascii=False).encode()
        return Response(
            body,
            media_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="contact-{contact_id}.json"',
                "Cache-Control": "no-store",
            },
        )

    @get("/{contact_id:int}/erase", opt=EDITORS_ONLY)
    async def confirm_erase(self, db: AsyncSession, contact_id: int) -> Template:
        return _erase_page(await contacts.get_contact(db, contact_id))

    @post("/{contact_id:int}/erase", status_code=200)
    async def erase(self, request: Request, db: AsyncSession, contact_id: int, data: Form) -> Response:
        contact = await contacts.get_contact(db, contact_id)
        typed = data.get("confirm_email", "")
        typed = typed if isinstance(typed, str) else ""
        if typed.strip().lower() != contact.email.lower():
            error = (
                "Type the contact's address exactly to confirm."
                if typed.strip()
                else ("Type the contact's address to confirm.")
            )
            return _erase_page(contact, typed[:1000], error, status_code=422)
        await gdpr.erase_contact(db, contact.id, actor=request.user.name)
        flash(
            request,
            f"Contact #{contact_id} was erased. Its address is kept only as a hash on the suppression "
            "list, so it stays suppressed if it is added again.",
            "success",
        )
        return after_change(request, "/contacts")
