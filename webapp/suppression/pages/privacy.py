"""Staff UI: a contact's GDPR export (a JSON download) and erasure (a confirmation page on which the
address must be typed). Erasing needs editor, like deleting a contact: it is a delete that also keeps
the address suppressed, so it never lets mail reach anyone who could not be mailed before."""

from __future__ import annotations

import json

from litestar import Controller, Response, get, post
from litestar.params import FromPath
from litestar.plugins.flash import flash
from litestar.response import Template

from webapp.contacts import service as contacts
from webapp.contacts.models import Contact
from webapp.core.access import EDITORS_ONLY
from webapp.core.deps import Db
from webapp.core.errors import ValidationFailed
from webapp.core.forms import after_change, first, read_form
from webapp.core.http import AnyResponse, StaffRequest
from webapp.suppression.service import gdpr


def _erase_page(contact: Contact, typed: str = "", errors: dict[str, str] | None = None) -> Template:
    return Template(
        "contacts/erase.html",
        context={"contact": contact, "typed": typed, "errors": errors or {}},
        status_code=422 if errors else 200,
    )


class ContactPrivacyController(Controller):
    path = "/contacts"

    @get("/{contact_id:int}/export")
    async def export(self, db: Db, contact_id: FromPath[int]) -> Response[bytes]:
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
    async def confirm_erase(self, db: Db, contact_id: FromPath[int]) -> Template:
        return _erase_page(await contacts.get_contact(db, contact_id))

    @post("/{contact_id:int}/erase", status_code=200)
    async def erase(self, request: StaffRequest, db: Db, contact_id: FromPath[int]) -> AnyResponse:
        contact = await contacts.get_contact(db, contact_id)
        typed = first(await read_form(request), "confirm_email")
        try:
            await gdpr.erase_on_request(db, contact.id, {"confirm_email": typed}, actor=request.user.name)
        except ValidationFailed as exc:
            return _erase_page(contact, typed, exc.errors)
        flash(
            request,
            f"Contact #{contact_id} was erased. Its address is kept only as a hash on the suppression "
            "list, so it stays suppressed if it is added again.",
            "success",
        )
        return after_change(request, "/contacts")
