"""Public subscription: a public list's hosted page and the endpoint its embeddable form posts to,
and the double opt-in confirmation link.

No CSRF token (an embedded form lives on another site) and no session: the abuse guards are a
honeypot field, a per-IP rate limit and at most one confirmation email per address per hour. Every
accepted sign-up gets the same page whether the address was new, pending or already subscribed.
"""

from __future__ import annotations

import asyncio
import logging

from litestar import Controller, Request, Response, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts.models import Contact
from webapp.core.config import get_settings
from webapp.core.errors import NotFound, ValidationFailed
from webapp.core.public_pages import client_ip, language_of, page
from webapp.core.redis import get_redis
from webapp.lists.models import EmailList
from webapp.subscriptions.service import subscriptions
from webapp.subscriptions.service import throttle as subscribe_throttle
from webapp.subscriptions.service.subscriptions import Confirmation
from webapp.subscriptions.service.subscriptions import Request as Origin
from webapp.subscriptions.service.tokens import preferences_token, read_confirm_token

log = logging.getLogger("mailroom.subscriptions")

HONEYPOT = "website"  # a field people never see (hidden by CSS); bots fill in every field


async def _send_confirmation(subscription_id: int) -> None:
    """Enqueue the confirmation email (the broker client blocks, so off the event loop)."""
    from webapp.subscriptions.actors import send_confirmation

    await asyncio.to_thread(send_confirmation.send, subscription_id)


async def _rate_limited(db: AsyncSession, request: Request, language: str) -> Response | None:
    retry_after = await subscribe_throttle.over_limit(get_redis(), get_settings().subscriptions, client_ip(request))
    if retry_after is None:
        return None
    minutes = max(1, -(-retry_after // 60))
    return await page(
        db,
        "subscriptions/rate_limited.html",
        language,
        status_code=429,
        headers={"Retry-After": str(retry_after)},
        minutes=minutes,
    )


async def _mail_confirmation_once(db: AsyncSession, subscription_id: int, email: str) -> None:
    await db.commit()  # the worker must find the subscription
    if await subscribe_throttle.claim_confirmation_email(get_redis(), get_settings().subscriptions, email):
        await _send_confirmation(subscription_id)


class SubscribeController(Controller):
    path = "/subscribe"
    include_in_schema = False

    async def _list(self, db: AsyncSession, request: Request, list_id: int, language: str) -> EmailList | Response:
        try:
            return await subscriptions.public_list(db, list_id)
        except NotFound:
            return await page(db, "subscriptions/not_found.html", language, status_code=404)

    @get("/{list_id:int}", name="subscribe-page")
    async def form(self, request: Request, db: AsyncSession, list_id: int) -> Response:
        language = language_of(request)
        email_list = await self._list(db, request, list_id, language)
        if isinstance(email_list, Response):
            return email_list
        return await page(
            db, "subscriptions/subscribe.html", language, email_list=email_list, values={}, errors={}, source="page"
        )

    @post("/{list_id:int}", name="subscribe", status_code=200)
    async def subscribe(self, request: Request, db: AsyncSession, list_id: int) -> Response:
        form = await request.form()
        language = language_of(request, form.get("lang"))
        email_list = await self._list(db, request, list_id, language)
        if isinstance(email_list, Response):
            return email_list
        if limited := await _rate_limited(db, request, language):
            return limited
        source = form.get("source") if form.get("source") in subscriptions.SOURCES else "page"
        values = {name: str(form.get(name) or "")[:400] for name in ("email", "first_name")}
        values["consent"] = bool(form.get("consent"))
        if form.get(HONEYPOT):  # a bot: look like success, keep nothing
            return await self._thanks(db, email_list, values["email"].strip(), language)
        try:
            signup = subscriptions.validate_signup(form, email_list)
        except ValidationFailed as exc:
            return await page(
                db,
                "subscriptions/subscribe.html",
                language,
                status_code=422,
                email_list=email_list,
                values=values,
                errors=exc.errors,
                source=source,
            )
        origin = Origin(source, client_ip(request), request.headers.get("user-agent", ""))
        pending_id = await subscriptions.subscribe(db, email_list, signup, origin, language)
        if pending_id is not None:
            await _mail_confirmation_once(db, pending_id, signup.email)
        return await self._thanks(db, email_list, signup.email, language)

    async def _thanks(self, db: AsyncSession, email_list: EmailList, email: str, language: str) -> Response:
        """The one answer to every accepted sign-up, whatever the address's state."""
        return await page(db, "subscriptions/subscribe_done.html", language, email_list=email_list, email=email)

    @get("/confirm/{token:str}", name="subscribe-confirm")
    async def confirm(self, request: Request, db: AsyncSession, token: str) -> Response:
        result = await subscriptions.confirm(db, read_confirm_token(token))
        contact = await db.get(Contact, result.contact_id) if result.contact_id else None
        language = language_of(request, contact_language=contact.language if contact else None)
        if result.outcome is Confirmation.CONFIRMED:
            return await page(
                db,
                "subscriptions/confirmed.html",
                language,
                list_name=result.list_name,
                preferences_url=f"/u/preferences/{preferences_token(result.contact_id)}",
            )
        if result.outcome is Confirmation.EXPIRED:
            return await page(
                db,
                "subscriptions/confirm_expired.html",
                language,
                status_code=410,
                token=token,
                list_name=result.list_name,
                list_id=result.list_id,
            )
        return await page(db, "subscriptions/confirm_invalid.html", language, status_code=404)

    @post("/confirm/{token:str}/resend", name="subscribe-resend", status_code=200)
    async def resend(self, request: Request, db: AsyncSession, token: str) -> Response:
        """A new link for a genuine but expired one (the page of an expired link has this button)."""
        link = read_confirm_token(token)
        subscription = await subscriptions.pending_subscription(db, link.subscription_id) if link else None
        contact = await db.get(Contact, subscription.contact_id) if subscription else None
        language = language_of(request, contact_language=contact.language if contact else None)
        if subscription is None or contact is None:
            return await page(db, "subscriptions/confirm_invalid.html", language, status_code=404)
        if limited := await _rate_limited(db, request, language):
            return limited
        email_list = await db.get(EmailList, subscription.list_id)
        await _mail_confirmation_once(db, subscription.id, contact.email)
        return await page(
            db, "subscriptions/subscribe_done.html", language, email_list=email_list, email=contact.email, resent=True
        )
