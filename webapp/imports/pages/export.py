"""Staff UI: CSV export of contacts (all, the contacts page's search and filters, or a list of any
type with ?list_id=), streamed in keyset batches so memory stays flat however many there are."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Stream

from webapp.contacts.schemas import TableParams
from webapp.core.deps import Db
from webapp.core.downloads import csv_download
from webapp.core.errors import ValidationFailed
from webapp.core.http import StaffRequest
from webapp.imports.service import export as exports


class ExportsController(Controller):
    path = "/contacts/export"

    @get("/", name="contacts_export")
    async def export(self, request: StaffRequest, db: Db) -> Stream:
        if errors := TableParams.unknown_filters(request.query_params):
            raise ValidationFailed(errors)
        params = TableParams.from_query(request.query_params)
        export = await exports.prepare(db, params.filters, request.query_params.get("list_id") or None)
        return csv_download(export.stream(for_spreadsheets=True), export.filename)  # people open it in Excel
