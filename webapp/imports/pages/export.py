"""Staff UI: CSV export of contacts (all, the contacts page's search and filters, or a list of any
type with ?list_id=), streamed in keyset batches so memory stays flat however many there are."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts.schemas import TableParams
from webapp.core.errors import NotFound
from webapp.core.forms import optional_id
from webapp.imports.service import export as exports


async def csv_response(db: AsyncSession, params: TableParams, raw_list_id: str | None) -> Stream:
    list_id = optional_id(raw_list_id) if raw_list_id else None
    if raw_list_id and list_id is None:
        raise NotFound(f"List {raw_list_id[:40]} does not exist.")
    export = await exports.prepare(db, params.filters, list_id)
    return Stream(
        export.stream(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "Cache-Control": "no-store",
        },
    )


class ExportsController(Controller):
    path = "/contacts/export"

    @get("/", name="contacts_export")
    async def export(self, request: Request, db: AsyncSession) -> Stream:
        return await csv_response(db, TableParams.from_query(request.query_params), request.query_params.get("list_id"))
