"""Public subscription: a public list's hosted page and the endpoint its embeddable form posts to,
and the double opt-in confirmation link.

No CSRF token (an embedded form lives on another site) and no session: the abuse guards are a
honeypot field, a per-IP rate limit and at most one confirmation email per address per hour. Every
accepted sign-up gets the same page whether the address was new, pending or already subscribed.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post, route
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.service import archive
from webapp.core import i18n
from webapp.core.config import get_settings
from webapp.core.deps import Db
from webapp.core.errors import NotFound, ValidationFailed
from webapp.core.http import GET_OR_HEAD, AnyResponse, PublicRequest
from webapp.core.public_pages import Sender, client_ip, language_of, page
from webapp.core.redis import get_redis
from webapp.lists.models import EmailList
from webapp.settings.service import organisation as org_settings
from webapp.subscriptions.actors import enqueue_confirmation
from webapp.subscriptions.schemas import Origin
from webapp.subscriptions.service import subscriptions
from webapp.subscriptions.service import throttle as subscribe_throttle
from webapp.subscriptions.service.subscriptions import Confirmation, ConfirmResult
from webapp.subscriptions.service.tokens import preferences_token, read_confirm_token

HONEYPOT = "website"  # a field people never see (hidden by CSS); bots fill in every field
SECONDS_PER_MINUTE = 60


async def _rate_limited(request: PublicRequest, language: str, org: Sender) -> AnyResponse | None:
    retry_after = await subscribe_throttle.over_limit(get_redis(), get_settings().subscriptions, client_ip(request))
    if retry_after is None:
        return None
    minutes = max(1, -(-retry_after // SECONDS_PER_MINUTE))  # rounded up
    return page(
        "subscriptions/rate_limited.html",
        language,
        org,
        status_code=429,
        headers={"Retry-After": str(retry_after)},
        minutes=minutes,
    )


async def _mail_confirmation_once(db: AsyncSession, subscription_id: int, email: str) -> None:
    await db.commit()  # the worker must find the subscription
    if await subscribe_throttle.claim_confirmation_email(get_redis(), get_settings().subscriptions, email):
        await enqueue_confirmation(subscription_id)


def _signup_form(
    email_list: EmailList,
    values: dict[str, Any],
    language: str,
    org: Sender,
    *,
    source: str = "page",
    errors: dict[str, str] | None = None,
    archive: bool = False,
) -> AnyResponse:
    # The messages are catalog ids: shown in the page's language.
    shown = {name: i18n.translate(language, message) for name, message in (errors or {}).items()}
    return page(
        "subscriptions/subscribe.html",
        language,
        org,
        status_code=422 if errors else 200,
        switch_language=not errors,  # the switcher's link is a new, empty form: what was typed would go
        email_list=email_list,
        values=values,
        errors=shown,
        source=source,
        archive=archive,
    )


def _thanks(email_list: EmailList, email: str, language: str, org: Sender, *, resent: bool = False) -> AnyResponse:
    """The one answer to every accepted sign-up, whatever the address's state (no language switcher:
    its link would open an empty sign-up form)."""
    return page(
        "subscriptions/subscribe_done.html",
        language,
        org,
        email_list=email_list,
        email=email,
        resent=resent,
        switch_language=False,
    )


def _invalid_link(language: str, org: Sender) -> AnyResponse:
    return page("subscriptions/confirm_invalid.html", language, org, status_code=404)


async def _confirmation_page(
    request: PublicRequest, db: AsyncSession, token: str, result: ConfirmResult, requested_language: Any = None
) -> AnyResponse:
    language = language_of(request, requested_language, contact_language=result.contact_language)
    org = await org_settings.load(db)
    if result.outcome is Confirmation.ASKED:
        return page("subscriptions/confirm.html", language, org, token=token, list_name=result.list_name)
    if result.outcome is Confirmation.CONFIRMED and result.contact_id is not None:
        return page(
            "subscriptions/confirmed.html",
            language,
            org,
            list_name=result.list_name,
            preferences_url=f"/u/preferences/{preferences_token(result.contact_id)}",
        )
    if result.outcome is Confirmation.EXPIRED:
        return page(
            "subscriptions/confirm_expired.html",
            language,
            org,
            status_code=410,
            token=token,
            list_name=result.list_name,
            list_id=result.list_id,
        )
    if result.outcome is Confirmation.BLOCKED:
        return page("subscriptions/confirm_blocked.html", language, org, status_code=403)
    return _invalid_link(language, org)


class SubscribeController(Controller):
    path = "/subscribe"
    include_in_schema = False

    @get("/{list_id:int}", name="subscribe-page")
    async def form(self, request: PublicRequest, db: Db, list_id: FromPath[int]) -> AnyResponse:
        language, org = language_of(request), await org_settings.load(db)
        try:
            email_list = await subscriptions.public_list(db, list_id)
        except NotFound:
            return page("subscriptions/not_found.html", language, org, status_code=404)
        return _signup_form(email_list, {}, language, org, archive=await archive.has_any(db))

    @post("/{list_id:int}", name="subscribe", status_code=200)
    async def subscribe(self, request: PublicRequest, db: Db, list_id: FromPath[int]) -> AnyResponse:
        form = await request.form()
        language, org = language_of(request, form.get("lang")), await org_settings.load(db)
        try:
            email_list = await subscriptions.public_list(db, list_id)
        except NotFound:
            return page("subscriptions/not_found.html", language, org, status_code=404)
        if limited := await _rate_limited(request, language, org):
            return limited
        sent_source = str(form.get("source") or "")
        source = sent_source if sent_source in subscriptions.SOURCES else "page"
        email, first_name = (str(form.get(name) or "") for name in ("email", "first_name"))
        if form.get(HONEYPOT):  # a bot: look like success, keep nothing
            return _thanks(email_list, email.strip(), language, org)
        values = {"email": email, "first_name": first_name, "consent": bool(form.get("consent"))}
        origin = Origin(source, client_ip(request), request.headers.get("user-agent", ""))
        try:
            signed_up = await subscriptions.subscribe(db, email_list, values, origin, language)
        except ValidationFailed as exc:
            return _signup_form(
                email_list, values, language, org, source=source, errors=exc.errors, archive=await archive.has_any(db)
            )
        if signed_up.pending_id is not None:
            await _mail_confirmation_once(db, signed_up.pending_id, signed_up.email)
        return _thanks(email_list, signed_up.email, language, org)

    @route("/confirm/{token:str}", http_method=GET_OR_HEAD, name="subscribe-confirm")
    async def confirmation(self, request: PublicRequest, db: Db, token: FromPath[str]) -> AnyResponse:
        """The link from the email asks for a click: a mail scanner that follows it confirms nothing."""
        result = await subscriptions.look_at_confirmation(db, read_confirm_token(token))
        return await _confirmation_page(request, db, token, result)

    @post("/confirm/{token:str}", name="subscribe-confirmed", status_code=200)
    async def confirm(self, request: PublicRequest, db: Db, token: FromPath[str]) -> AnyResponse:
        form = await request.form()
        result = await subscriptions.confirm(db, read_confirm_token(token))
        return await _confirmation_page(request, db, token, result, form.get("lang"))

    @post("/confirm/{token:str}/resend", name="subscribe-resend", status_code=200)
    async def resend(self, request: PublicRequest, db: Db, token: FromPath[str]) -> AnyResponse:
        """A new link for a genuine but expired one (the page of an expired link has this button)."""
        link, read_in = read_confirm_token(token), (await request.form()).get("lang")
        pending = await subscriptions.pending_confirmation(db, link.subscription_id) if link else None
        contact_language = pending.contact.language if pending else None
        language, org = language_of(request, read_in, contact_language), await org_settings.load(db)
        if pending is None:
            return _invalid_link(language, org)
        if limited := await _rate_limited(request, language, org):
            return limited
        email = pending.contact.email
        await _mail_confirmation_once(db, pending.subscription_id, email)
        return _thanks(pending.email_list, email, language, org, resent=True)
