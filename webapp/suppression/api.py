"""JSON API: /api/suppression (seed 004), and a contact's GDPR export and erasure under /api/contacts.
Thin: Litestar checks JSON types (400), the services apply the rules (422 naming the field)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, post
from litestar.exceptions import ValidationException
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody, Parameter
from msgspec import convert

from webapp.core.api import Limit, creator, error_responses, id_parameter, sent_object
from webapp.core.deps import Db
from webapp.core.http import StaffRequest
from webapp.core.schemas import EMAIL_LIMITS, NOT_BLANK
from webapp.suppression.models import Suppression, SuppressionReason
from webapp.suppression.schemas import (
    ContactExportOut,
    ErasureOut,
    SuppressionBulkIn,
    SuppressionBulkOut,
    SuppressionCheckOut,
    SuppressionCreate,
    SuppressionOut,
    SuppressionPageOut,
    SuppressionStatsOut,
)
from webapp.suppression.service import gdpr, suppression


def suppression_out(row: Suppression) -> SuppressionOut:
    return convert(row, SuppressionOut, from_attributes=True)


ContactId = Annotated[int, id_parameter("Contact id.")]


class ApiSuppressionController(Controller):
    path = "/suppression"
    tags = ("suppression",)

    @post(
        "/",
        summary="Suppress an address",
        description="201 with the new entry; 200 with the existing one when the address (in any case) is "
        "suppressed already: the first entry, its reason and note are kept. `reason` defaults to manual.",
        responses={
            200: ResponseSpec(
                SuppressionOut, description="Suppressed already; the entry is unchanged.", generate_examples=False
            ),
            **error_responses(422),
        },
    )
    async def add(self, request: StaffRequest, data: JSONBody[SuppressionCreate], db: Db) -> Response[SuppressionOut]:
        body = await sent_object(request)
        result = await suppression.add_entry(db, body, source="api", created_by=creator(request.user))
        return Response(suppression_out(result.suppression), status_code=201 if result.created else 200)

    @post(
        "/bulk",
        status_code=200,
        summary="Suppress many addresses",
        description="The valid addresses are suppressed in one statement; the others are reported with their "
        "position in `emails` (1-based `line`) and the reason. `added` counts new entries, `already` "
        "addresses that were suppressed before.",
        responses=error_responses(422),
    )
    async def add_bulk(self, request: StaffRequest, data: JSONBody[SuppressionBulkIn], db: Db) -> SuppressionBulkOut:
        body = await sent_object(request)
        report = await suppression.add_bulk(db, body, source="api", created_by=creator(request.user))
        return convert(report, SuppressionBulkOut, from_attributes=True)

    @get(
        "/",
        summary="List suppressed addresses",
        description="Newest first, `limit` at a time; pass `next_cursor` as `cursor` for the next page (null on "
        "the last). Erased contacts' entries have `email` null.",
        responses=error_responses(),
    )
    async def list_entries(
        self,
        db: Db,
        q: Annotated[str | None, Parameter(description="The address starts with this (any case).")] = None,
        reason: Annotated[SuppressionReason | None, Parameter(description="Only this reason.")] = None,
        limit: Limit = 50,
        cursor: Annotated[str | None, Parameter(description="`next_cursor` of the previous page.")] = None,
    ) -> SuppressionPageOut:
        if cursor and not suppression.is_cursor(cursor):
            raise ValidationException(
                "The request is not valid.", extra=[{"key": "cursor", "message": "Not a cursor from this API."}]
            )
        found = await suppression.search(db, q or "", reason.value if reason else "", cursor, limit=limit)
        return SuppressionPageOut(items=[suppression_out(r) for r in found.items], next_cursor=found.next_cursor)

    @get(
        "/check",
        summary="Is an address suppressed?",
        description="Any case; also true for an erased contact's address, kept only as a hash.",
        responses=error_responses(422),
    )
    async def check(
        self, db: Db, email: Annotated[str, Parameter(description="The address to check.", schema_extra=EMAIL_LIMITS)]
    ) -> SuppressionCheckOut:
        row = await suppression.check(db, email)
        return SuppressionCheckOut(
            email=email.strip(),
            suppressed=row is not None,
            reason=SuppressionReason(row.reason) if row else None,
            since=row.created_at if row else None,
        )

    @get("/stats", summary="Suppressed addresses per reason", responses=error_responses())
    async def stats(self, db: Db) -> SuppressionStatsOut:
        by_reason = await suppression.stats(db)
        return SuppressionStatsOut(total=sum(by_reason.values()), by_reason=by_reason)

    @delete(
        "/{email:str}",
        summary="Remove an address from the list",
        description="`reason` (why it may receive mail again) is required and written to the audit log. "
        "Works for an erased contact's entry too, given the address.",
        responses=error_responses(404, 422),
    )
    async def remove(
        self,
        request: StaffRequest,
        db: Db,
        email: Annotated[str, Parameter(description="The address.")],
        # Required, but checked by the service: a missing reason is a 422 naming it, as a blank one is.
        reason: Annotated[
            str | None,
            Parameter(
                description="Why this address may receive mail again.",
                required=True,
                schema_extra={"pattern": NOT_BLANK},
            ),
        ] = None,
    ) -> None:
        await suppression.remove(db, email, reason, actor=creator(request.user))


class ApiContactPrivacyController(Controller):
    path = "/contacts"
    tags = ("contacts",)

    @get(
        "/{contact_id:int}/export",
        summary="Export everything about a contact (GDPR)",
        description="Profile (custom fields, tags, preferences), lists, consent records, deliveries, email "
        "events and suppression status, as JSON.",
        responses=error_responses(404),
    )
    async def export_contact(self, db: Db, contact_id: ContactId) -> ContactExportOut:
        return convert(await gdpr.export_contact(db, contact_id), ContactExportOut)

    @post(
        "/{contact_id:int}/erase",
        status_code=200,
        summary="Erase a contact (GDPR)",
        description="Deletes the contact with its list memberships and consent records, anonymises its "
        "deliveries and email events, and keeps the address only as a hash on the suppression list "
        "(reason compliance, or its earlier reason), so adding it again stays suppressed. Cannot be undone.",
        responses=error_responses(404),
    )
    async def erase_contact(self, request: StaffRequest, db: Db, contact_id: ContactId) -> ErasureOut:
        erased = await gdpr.erase_contact(db, contact_id, actor=creator(request.user))
        return convert(erased, ErasureOut, from_attributes=True)
