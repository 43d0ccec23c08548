"""What mail clients and subscribers reach from a message: the open pixel, tracked links, and
unsubscribe (a confirmation page on GET, since link scanners prefetch; RFC 8058 one-click POST).

Opens and clicks answer at once: the token is checked, a link's destination comes from memory, and
the hit is handed to the event stream (tracking/service/hits.py) for the event worker to apply.
HEAD answers as GET would and records nothing; nor do a test send's links (TEST_DELIVERY_ID), which
lead to the same pages, nor a browser signed in to the staff UI."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Controller, HttpMethod, Response, post, route
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.deps import Db
from webapp.core.errors import NotFound
from webapp.core.http import GET_OR_HEAD, NO_CACHE, PIXEL, AnyResponse, PublicRequest
from webapp.core.public_pages import language_of, page
from webapp.core.redis import get_redis
from webapp.core.sessions import signed_in_staff
from webapp.core.tokens import CLICK_TOKEN_COUNTS, LINK_NOT_VALID, TEST_DELIVERY_ID, read_token
from webapp.settings.service import organisation as org_settings
from webapp.tracking import service as engagement
from webapp.tracking.queries import DeliveryRef
from webapp.tracking.service import hits, links

log = logging.getLogger("mailroom.tracking")

TEST_REF = DeliveryRef(TEST_DELIVERY_ID, 0, None, "", None)  # whom a test send's unsubscribe page is for


async def _records(request: PublicRequest, delivery_id: int) -> bool:
    """Staff looking at a message (a browser signed in to the staff UI) count as nobody either."""
    if request.method == HttpMethod.HEAD or delivery_id == TEST_DELIVERY_ID:
        return False
    return not await signed_in_staff(request)


def _hit(request: PublicRequest, kind: str, delivery_id: int, link_id: int | None) -> hits.Hit:
    return hits.new_hit(kind, delivery_id, link_id, request.headers.get("user-agent", ""))


def delivery_id_from(purpose: str, token: str) -> int:
    numbers = read_token(purpose, token, 1)
    if numbers is None:
        raise NotFound(LINK_NOT_VALID)
    return numbers[0]


async def _unsubscribe_page(
    request: PublicRequest, db: AsyncSession, ref: DeliveryRef, token: str, done: bool, requested: Any = None
) -> AnyResponse:
    """The page speaks the language asked for (?lang=, or the form's, after its button), else the
    contact's, else the browser's."""
    return page(
        "tracking/unsubscribe.html",
        language_of(request, requested, contact_language=ref.language),
        await org_settings.load(db),
        email=ref.email,
        token=token,
        done=done,
        test=ref is TEST_REF,
    )


async def _link_invalid(request: PublicRequest, db: AsyncSession, requested: Any = None) -> AnyResponse:
    """The page a damaged or outdated link gets: the way out is a newer email's link."""
    org = await org_settings.load(db)
    return page("subscriptions/link_invalid.html", language_of(request, requested), org, status_code=404)


class TrackingController(Controller):
    path = "/u"
    include_in_schema = False

    @route("/o/{token:str}", http_method=GET_OR_HEAD, name="open-pixel")
    async def open_pixel(self, request: PublicRequest, token: FromPath[str]) -> Response[bytes]:
        """Always a 1x1 GIF, whatever happens while recording: a broken image helps nobody."""
        numbers = read_token("open", token.removesuffix(".gif"), 1)
        if numbers is not None and await _records(request, numbers[0]):
            try:
                await hits.record(get_redis(), _hit(request, "open", numbers[0], None))
            except Exception:
                log.exception("recording an open failed")
        return Response(PIXEL, media_type="image/gif", headers=NO_CACHE)

    @route("/c/{token:str}", http_method=GET_OR_HEAD, name="click")
    async def click(self, request: PublicRequest, token: FromPath[str]) -> Redirect:
        numbers = read_token("click", token, *CLICK_TOKEN_COUNTS)
        if numbers is None:
            raise NotFound(LINK_NOT_VALID)
        delivery_id, link_id, *signed_campaign = numbers
        url = await links.destination(delivery_id, link_id, signed_campaign[0] if signed_campaign else None)
        if await _records(request, delivery_id):
            await hits.record(get_redis(), _hit(request, "click", delivery_id, link_id))
        return Redirect(url, status_code=302, headers=NO_CACHE)

    @route("/unsubscribe/{token:str}", http_method=GET_OR_HEAD, name="unsubscribe-confirm")
    async def unsubscribe_form(self, request: PublicRequest, db: Db, token: FromPath[str]) -> AnyResponse:
        try:
            delivery_id = delivery_id_from("unsubscribe", token)
            ref = TEST_REF if delivery_id == TEST_DELIVERY_ID else await engagement.delivery(db, delivery_id)
        except NotFound:
            return await _link_invalid(request, db)
        done = ref is not TEST_REF and await engagement.is_unsubscribed(db, ref)  # the link followed again
        return await _unsubscribe_page(request, db, ref, token, done=done)

    @post("/unsubscribe/{token:str}", name="unsubscribe", status_code=200)
    async def unsubscribe(self, request: PublicRequest, db: Db, token: FromPath[str]) -> AnyResponse:
        form = await request.form()  # empty from our page's button; "List-Unsubscribe=One-Click" from mail clients
        one_click = form.get("List-Unsubscribe") == "One-Click"
        try:
            delivery_id = delivery_id_from("unsubscribe", token)
            if delivery_id == TEST_DELIVERY_ID:
                ref = TEST_REF
            else:
                ref = await engagement.unsubscribe(db, delivery_id, "one-click" if one_click else "unsubscribe page")
        except NotFound:
            if one_click:
                return Response(LINK_NOT_VALID, media_type="text/plain", status_code=404)
            return await _link_invalid(request, db, form.get("lang"))
        if one_click:  # RFC 8058: the mail client posts; answer plainly, never redirect
            return Response("Unsubscribed.", media_type="text/plain")
        return await _unsubscribe_page(request, db, ref, token, done=True, requested=form.get("lang"))
