"""Provider webhooks (no staff session, no CSRF: each provider proves itself by its own signature).
Answers are short JSON: 200 with what was recorded, 400 malformed, 401/403 not authentic or not
allowed, 404 the source is not configured, 413 a body over 1 MB. An authentic message we do not use
is a 200 (and logged), so a provider never retries it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from litestar import Controller, Response, post
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.service import campaigns
from webapp.core.deps import Db
from webapp.core.http import PublicRequest
from webapp.delivery.progress import announce
from webapp.feedback.service import Recorded, inbound
from webapp.feedback.service.providers import Refused

log = logging.getLogger("mailroom.feedback")

MAX_BODY_BYTES = 1024 * 1024
POSTMARK_CHALLENGE = {"WWW-Authenticate": 'Basic realm="mailroom", charset="UTF-8"'}


async def _answer(
    request: PublicRequest,
    db: AsyncSession,
    receiving: Awaitable[Recorded],
    challenge: dict[str, str] | None = None,
) -> Response[dict[str, object]]:
    """`challenge`: the headers of a 401 (basic auth names its realm)."""
    try:
        recorded = await receiving
    except Refused as exc:
        log.info("%s refused with %d: %s", request.url.path, exc.status, exc.reason)
        headers = challenge if exc.status == 401 else None
        return Response({"status_code": exc.status, "detail": exc.reason}, status_code=exc.status, headers=headers)
    for campaign_id in recorded.paused:  # complaints paused it: tell its live pages, as a staff pause does
        await announce(db, await campaigns.get_campaign(db, campaign_id))
    return Response({"received": recorded.received, "new": recorded.new, "repeated": recorded.repeated})


class FeedbackWebhooksController(Controller):
    path = "/webhooks"
    include_in_schema = False
    request_max_body_size = MAX_BODY_BYTES

    @post("/amazon-ses", status_code=200)
    async def amazon_ses(self, request: PublicRequest, db: Db) -> Response[dict[str, object]]:
        return await _answer(request, db, inbound.amazon_ses(db, await request.body()))

    @post("/sendgrid", status_code=200)
    async def sendgrid(self, request: PublicRequest, db: Db) -> Response[dict[str, object]]:
        return await _answer(request, db, inbound.sendgrid_events(db, await request.body(), request.headers))

    @post("/postmark", status_code=200)
    async def postmark(self, request: PublicRequest, db: Db) -> Response[dict[str, object]]:
        authorization = request.headers.get("authorization", "")
        receiving = inbound.postmark_record(db, await request.body(), authorization)
        return await _answer(request, db, receiving, challenge=POSTMARK_CHALLENGE)

    @post("/mailgun", status_code=200)
    async def mailgun(self, request: PublicRequest, db: Db) -> Response[dict[str, object]]:
        return await _answer(request, db, inbound.mailgun_event(db, await request.body()))

    @post("/generic", status_code=200)
    async def generic(self, request: PublicRequest, db: Db) -> Response[dict[str, object]]:
        return await _answer(request, db, inbound.generic_events(db, await request.body(), request.headers))
