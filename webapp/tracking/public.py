"""What mail clients and subscribers reach from a message: the open pixel, tracked links, and
unsubscribe (a confirmation page on GET, since link scanners prefetch; RFC 8058 one-click POST)."""

from __future__ import annotations

import logging

from litestar import Controller, Response, get, post
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.db import get_sessionmaker
from webapp.core.errors import NotFound
from webapp.core.http import AnyResponse, PublicRequest
from webapp.core.public_pages import language_of, page
from webapp.core.tokens import read_token
from webapp.settings.service import organisation as org_settings
from webapp.tracking import service as engagement
from webapp.tracking.queries import DeliveryRef

log = logging.getLogger("mailroom.tracking")

PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")
LINK_NOT_VALID = "This link is not valid."
NO_CACHE = {"Cache-Control": "no-store, no-cache, must-revalidate, max-age=0", "Pragma": "no-cache", "Expires": "0"}


def delivery_id_from(purpose: str, token: str) -> int:
    numbers = read_token(purpose, token, 1)
    if numbers is None:
        raise NotFound(LINK_NOT_VALID)
    return numbers[0]


async def _unsubscribe_page(
    request: PublicRequest, db: AsyncSession, ref: DeliveryRef, token: str, done: bool
) -> AnyResponse:
    """The page speaks the contact's language (or ?lang=, or the browser's)."""
    return page(
        "tracking/unsubscribe.html",
        language_of(request, contact_language=ref.language),
        await org_settings.load(db),
        email=ref.email,
        token=token,
        done=done,
    )


class TrackingController(Controller):
    path = "/u"
    include_in_schema = False

    @get("/o/{token:str}", name="open-pixel")
    async def open_pixel(self, token: str) -> Response[bytes]:
        """Always a 1x1 GIF, whatever happens while recording: a broken image helps nobody."""
        numbers = read_token("open", token.removesuffix(".gif"), 1)
        if numbers is not None:
            try:
                async with get_sessionmaker()() as session, session.begin():
                    await engagement.record_open(session, numbers[0])
            except Exception:
                log.exception("recording an open failed")
        return Response(PIXEL, media_type="image/gif", headers=NO_CACHE)

    @get("/c/{token:str}", name="click")
    async def click(self, db: AsyncSession, token: str) -> Redirect:
        numbers = read_token("click", token, 2)
        if numbers is None:
            raise NotFound(LINK_NOT_VALID)
        url = await engagement.record_click(db, *numbers)
        return Redirect(url, status_code=302, headers=NO_CACHE)

    @get("/unsubscribe/{token:str}", name="unsubscribe-confirm")
    async def unsubscribe_form(self, request: PublicRequest, db: AsyncSession, token: str) -> AnyResponse:
        ref = await engagement.delivery(db, delivery_id_from("unsubscribe", token))
        return await _unsubscribe_page(request, db, ref, token, done=False)

    @post("/unsubscribe/{token:str}", name="unsubscribe", status_code=200)
    async def unsubscribe(self, request: PublicRequest, db: AsyncSession, token: str) -> AnyResponse:
        delivery_id = delivery_id_from("unsubscribe", token)
        form = await request.form()  # empty from our page's button; "List-Unsubscribe=One-Click" from mail clients
        one_click = form.get("List-Unsubscribe") == "One-Click"
        ref = await engagement.unsubscribe(db, delivery_id, "one-click" if one_click else "unsubscribe page")
        if one_click:  # RFC 8058: the mail client posts; answer plainly, never redirect
            return Response("Unsubscribed.", media_type="text/plain")
        return await _unsubscribe_page(request, db, ref, token, done=True)
