"""JSON API: /api/contacts. Thin: Litestar checks types, services apply the rules.

Write handlers take `data` (a request Struct) so Litestar checks JSON types (400) and /api/docs shows the
body; the service gets the object as sent (`sent_object`) and names unknown fields itself (422).
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post, put
from litestar.exceptions import ValidationException
from litestar.params import JSONBody, Parameter

from webapp.contacts import service as contacts
from webapp.contacts.models import ContactStatus
from webapp.contacts.schemas import (
    ContactCreate,
    ContactFilter,
    ContactOut,
    ContactPageOut,
    ContactUpdate,
    contact_out,
)
from webapp.core.api import Limit, creator, error_responses, id_parameter, sent_object
from webapp.core.deps import Db
from webapp.core.http import StaffRequest

SORT = "newest"
ContactId = Annotated[int, id_parameter("Contact id.")]


class ApiContactsController(Controller):
    path = "/contacts"
    tags = ("contacts",)

    @post(
        "/",
        summary="Create a contact",
        description="Only `email` is required. The address is validated and must not belong to another "
        "contact (409 names the existing contact and gives its `existing_id`).",
        responses=error_responses(409, 422),
    )
    async def create_contact(self, request: StaffRequest, data: JSONBody[ContactCreate], db: Db) -> ContactOut:
        return contact_out(await contacts.create_contact(db, await sent_object(request), by=creator(request.user)))

    @get(
        "/",
        summary="List contacts",
        description="Newest first, `limit` at a time. Pass `next_cursor` from one page as `cursor` to get the "
        "next; it is null on the last page. Filters combine with AND.",
        responses=error_responses(),
    )
    async def list_contacts(
        self,
        db: Db,
        company: Annotated[str | None, Parameter(description="Company, exact but case-insensitive.")] = None,
        tags: Annotated[str | None, Parameter(description="Comma-separated; contacts having all of them.")] = None,
        is_active: Annotated[bool | None, Parameter(description="true or false.")] = None,
        status: Annotated[ContactStatus | None, Parameter(description="Subscription status.")] = None,
        q: Annotated[str | None, Parameter(description="Word prefixes of email, name or company.")] = None,
        limit: Limit = 50,
        cursor: Annotated[str | None, Parameter(description="`next_cursor` of the previous page.")] = None,
    ) -> ContactPageOut:
        if cursor and not contacts.is_cursor(cursor, SORT):
            raise ValidationException(
                "The request is not valid.", extra=[{"key": "cursor", "message": "Not a cursor from this API."}]
            )
        filters = ContactFilter(
            q=q or "",
            tags=tuple((tags or "").split(",")),
            company=company or "",
            status=status.value if status else "",
            is_active=is_active,
        )
        result = await contacts.page(db, filters, sort=SORT, cursor=cursor, limit=limit)
        return ContactPageOut(items=[contact_out(c) for c in result.contacts], next_cursor=result.next_cursor)

    @get("/{contact_id:int}", summary="Get a contact", responses=error_responses(404))
    async def get_contact(self, db: Db, contact_id: ContactId) -> ContactOut:
        return contact_out(await contacts.get_contact(db, contact_id))

    @put(
        "/{contact_id:int}",
        summary="Update a contact",
        description="A partial update: only the fields in the body change.",
        responses=error_responses(404, 409, 422),
    )
    async def update_contact(
        self, request: StaffRequest, data: JSONBody[ContactUpdate], db: Db, contact_id: ContactId
    ) -> ContactOut:
        return contact_out(
            await contacts.update_contact(db, contact_id, await sent_object(request), by=creator(request.user))
        )

    @delete(
        "/{contact_id:int}",
        summary="Delete a contact",
        description="Also removes the contact from every list.",
        responses=error_responses(404),
    )
    async def delete_contact(self, db: Db, contact_id: ContactId) -> None:
        await contacts.get_contact(db, contact_id)
        await contacts.delete_contacts(db, [contact_id])
