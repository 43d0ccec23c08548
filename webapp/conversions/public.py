"""The conversion pixel for a shop's thank-you page: GET /u/conversion.gif?order_id&email&amount&
currency&sig. `sig` is the HMAC-SHA256 the shop's server computes with the organisation's secret
key (Settings → Conversions), so the page carries no secret and nobody can record an order they
were not given a signature for; a replayed URL records the same order again, i.e. nothing."""

from __future__ import annotations

from litestar import Controller, Response, get

from webapp.conversions import service as conversions
from webapp.core.deps import Db
from webapp.core.http import NO_CACHE, PIXEL, PublicRequest


class ConversionPixelController(Controller):
    @get("/u/conversion.gif", include_in_schema=False)
    async def pixel(self, request: PublicRequest, db: Db) -> Response[bytes]:
        recorded = await conversions.record_signed(db, dict(request.query_params))
        if recorded is None:
            return Response(b"Signature not valid.", status_code=403, media_type="text/plain", headers=NO_CACHE)
        return Response(PIXEL, media_type="image/gif", headers=NO_CACHE)
