"""JSON API: POST /api/conversions (an editor key records; the body is decoded with JSON numbers as
decimals, so an amount sent as a number is kept exactly as written) and a campaign's revenue per
currency (a viewer key reads)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody

from webapp.campaigns.service import campaigns
from webapp.conversions import service as conversions
from webapp.conversions.models import Conversion
from webapp.conversions.schemas import AttributionOut, ConversionIn, ConversionOut, Revenue
from webapp.core.api import error_responses, id_parameter
from webapp.core.audit_trail import NOT_AUDITED
from webapp.core.deps import Db
from webapp.core.http import StaffRequest

EXACT_JSON = msgspec.json.Decoder(dict[str, Any], float_hook=Decimal)


def conversion_out(row: Conversion) -> ConversionOut:
    attribution = (
        AttributionOut(campaign_id=row.campaign_id, delivery_id=row.delivery_id, link_id=row.link_id)
        if row.campaign_id is not None and row.delivery_id is not None
        else None
    )
    return ConversionOut(
        id=row.id,
        order_id=row.order_id,
        contact_id=row.contact_id,
        amount=str(row.amount),
        currency=row.currency,
        occurred_at=row.occurred_at,
        source=row.source,
        attribution=attribution,
        created_at=row.created_at,
    )


CampaignId = Annotated[int, id_parameter("Campaign id.")]


class ApiConversionsController(Controller):
    tags = ("conversions",)

    @post(
        "/conversions",
        summary="Record a conversion (an order)",
        opt=NOT_AUDITED,
        description="The contact by `email` or `contact_id`; `amount` greater than 0 with at most four decimal "
        'places (a string such as "49.90", or a JSON number, kept exactly); `currency` an ISO 4217 code; '
        "`order_id` (required) makes it idempotent: a repeat answers 200 with the stored conversion, a repeat "
        "with another amount, currency or contact 409 naming the field. `occurred_at` (ISO 8601, default now) "
        "dates it. It is credited to the contact's last human click within the attribution window before it "
        "(`attribution`, null when there was none).",
        responses={
            200: ResponseSpec(ConversionOut, description="Recorded already; unchanged.", generate_examples=False),
            **error_responses(409, 422),
        },
    )
    async def record(self, request: StaffRequest, data: JSONBody[ConversionIn], db: Db) -> Response[ConversionOut]:
        body = EXACT_JSON.decode(await request.body())
        result = await conversions.record(db, body, source="api")
        return Response(conversion_out(result.conversion), status_code=201 if result.created else 200)

    @get(
        "/campaigns/{campaign_id:int}/revenue",
        summary="A campaign's revenue per currency",
        description="The orders credited to the campaign and their sum (`amount`, exact, as a string), one row "
        "per currency, by currency code: amounts in different currencies are never added together.",
        responses=error_responses(404),
    )
    async def campaign_revenue(self, db: Db, campaign_id: CampaignId) -> list[Revenue]:
        await campaigns.get_campaign(db, campaign_id)
        return await conversions.campaign_revenue(db, campaign_id)
