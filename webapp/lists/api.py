"""JSON API: /api/lists and list membership. Thin: Litestar checks types, services apply the rules.

Write handlers take `data` (the list's schema) so Litestar checks JSON types (400) and /api/docs shows
the body; the service loads the object as sent (`sent_object`) through the same schema, naming unknown
fields and broken rules (422).
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody, Parameter

from webapp.contacts import service as contacts
from webapp.core.api import Cursor, Limit, checked_cursor, creator, error_responses, id_parameter, sent_object
from webapp.core.config import get_settings
from webapp.core.deps import Db
from webapp.core.errors import NotFound, ValidationFailed
from webapp.core.http import StaffRequest
from webapp.lists.models import ListType
from webapp.lists.schemas.lists import ListCreate, ListOut, ListPageOut, ListUpdate, SegmentCountOut, list_out
from webapp.lists.service import lists, segments

MEMBER = "/{list_id:int}/contacts/{contact_id:int}"
ContactId = Annotated[int, id_parameter("Contact id.")]
ListId = Annotated[int, id_parameter("List id.")]


class ApiListsController(Controller):
    path = "/lists"
    tags = ("lists",)

    @post(
        "/",
        summary="Create a list",
        description="Only `name` is required and must be unique (409 otherwise). `created_by` is set to "
        "`api:<key name>`.",
        responses=error_responses(409, 422),
    )
    async def create_list(self, request: StaffRequest, data: JSONBody[ListCreate], db: Db) -> ListOut:
        return list_out(await lists.create_list(db, await sent_object(request), created_by=creator(request.user)))

    @get(
        "/",
        summary="List lists",
        description="By name, up to `limit`; pass `next_cursor` back as `cursor` for the next page. Filters "
        "combine with AND.",
        responses=error_responses(),
    )
    async def list_lists(
        self,
        db: Db,
        list_type: Annotated[ListType | None, Parameter(description="static, dynamic or segmented.")] = None,
        created_by: Annotated[str | None, Parameter(description="Exact creator, e.g. `api:crm-sync`.")] = None,
        is_active: Annotated[bool | None, Parameter(description="true or false.")] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> ListPageOut:
        found = await lists.find_lists(
            db,
            list_type=list_type.value if list_type else None,
            created_by=created_by,
            is_active=is_active,
            limit=limit,
            cursor=checked_cursor(cursor, lists.is_cursor),
        )
        return ListPageOut(items=[list_out(x) for x in found.lists], next_cursor=found.next_cursor)

    @get("/{list_id:int}", summary="Get a list", responses=error_responses(404))
    async def get_list(self, db: Db, list_id: ListId) -> ListOut:
        return list_out(await lists.get_list(db, list_id))

    @patch("/{list_id:int}", summary="Change a list or a segment's rules", responses=error_responses(404, 409, 422))
    async def update_list(self, request: StaffRequest, data: JSONBody[ListUpdate], db: Db, list_id: ListId) -> ListOut:
        return list_out(await lists.update_list(db, list_id, await sent_object(request)))

    @delete(
        "/{list_id:int}",
        summary="Delete a list or a segment",
        description="Its contacts stay. Unfinished campaigns that go to it go to their other lists only (or cannot "
        "be sent without one), and automations that start from it or change it lose that part: the staff UI "
        "names them before deleting; archive it (`PATCH` with `is_active: false`) to keep it instead. 409 while "
        "segments are made of it (their `parent_list_id`).",
        responses=error_responses(404, 409),
    )
    async def delete_list(self, db: Db, list_id: ListId) -> None:
        await lists.delete_list(db, list_id)

    @post(
        "/{list_id:int}/count",
        summary="Count a segment now",
        description="Evaluates a dynamic or segmented list's rules and stores the figure as `contact_count`; "
        "a 422 naming `rules` when that takes longer than `MAILROOM_SEGMENT_COUNT_SECONDS` (30 s; the figure "
        "stays as it was).",
        responses=error_responses(404, 422),
        status_code=200,
    )
    async def count_list(self, db: Db, list_id: ListId) -> SegmentCountOut:
        email_list = await lists.get_list(db, list_id)
        seconds = get_settings().segments.count_seconds
        if await segments.refresh_count(db, email_list, seconds) is None:
            raise ValidationFailed({"rules": segments.too_slow_to_count(seconds)})
        return SegmentCountOut(
            list_id=email_list.id, contact_count=email_list.contact_count, counted_at=email_list.counted_at
        )

    @post(
        MEMBER,
        summary="Add a contact to a list",
        description="201 when the contact was added, 200 when it was on the list already. Returns the list "
        "with its new `contact_count`. Only static lists take members (409 otherwise).",
        responses={
            200: ResponseSpec(ListOut, description="The contact was on the list already.", generate_examples=False),
            **error_responses(404, 409),
        },
    )
    async def add_member(self, db: Db, list_id: ListId, contact_id: ContactId) -> Response[ListOut]:
        email_list = await lists.get_list(db, list_id)
        await contacts.get_contact(db, contact_id)
        added = await lists.add_members(db, list_id, [contact_id])
        await db.refresh(email_list)  # contact_count is kept by a trigger
        return Response(list_out(email_list), status_code=201 if added else 200)

    @delete(
        MEMBER,
        summary="Remove a contact from a list",
        description="404 when the contact is not on the list.",
        responses=error_responses(404),
    )
    async def remove_member(self, db: Db, list_id: ListId, contact_id: ContactId) -> None:
        if not await lists.remove_members(db, list_id, [contact_id]):
            raise NotFound(f"Contact {contact_id} is not on list {list_id}.", "contact_id")
