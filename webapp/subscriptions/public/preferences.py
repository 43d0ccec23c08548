"""The preference centre every message links to as {{ preferences_url }}: topics, frequency,
language, lists to stay on, leave or join, unsubscribe from all, and "email me my data" (the link to
download it goes to the address itself, /u/data/<token>).

Two kinds of link reach it: a campaign message's (the delivery's unsubscribe token, so leaving all
mail also counts as that campaign's unsubscribe) and a contact's own (the confirmation email and
the welcome page after confirming, see service/tokens.py). A test send's link (TEST_DELIVERY_ID)
shows a sample page that saves nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Response, get, post, route
from litestar.datastructures import FormMultiDict
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core import i18n
from webapp.core.config import get_settings
from webapp.core.deps import Db
from webapp.core.errors import NotFound
from webapp.core.http import GET_OR_HEAD, AnyResponse, PublicRequest
from webapp.core.public_pages import client_ip, language_of, page
from webapp.core.redis import get_redis
from webapp.core.tokens import LINK_NOT_VALID, TEST_DELIVERY_ID, read_token
from webapp.settings.service import organisation as org_settings
from webapp.subscriptions.actors import enqueue_data_link
from webapp.subscriptions.schemas import Origin
from webapp.subscriptions.service import preferences as preference_centre
from webapp.subscriptions.service import subscriptions, throttle
from webapp.subscriptions.service.preferences import FREQUENCIES
from webapp.subscriptions.service.tokens import preferences_token, read_data_token, read_preferences_token
from webapp.suppression.service import gdpr
from webapp.tracking import service as engagement

SECONDS_PER_MINUTE = 60
ACTIONS = ("save", "unsubscribe-all")  # the preference form's buttons (pressing Enter sends the first)


@dataclass(frozen=True)
class Holder:
    contact_id: int | None
    delivery_id: int | None = None
    test: bool = False


async def holder(db: AsyncSession, token: str) -> Holder:
    """Whose preferences a token opens; NotFound for anything forged."""
    if numbers := read_token("unsubscribe", token, 1):
        if numbers[0] == TEST_DELIVERY_ID:
            return Holder(None, test=True)
        ref = await engagement.delivery(db, numbers[0])
        return Holder(ref.contact_id, ref.id)
    if (contact_id := read_preferences_token(token)) is not None:
        return Holder(contact_id)
    raise NotFound(LINK_NOT_VALID)


def _changes(form: FormMultiDict) -> dict[str, Any]:
    """The form as PreferenceChanges names it: a section the page did not show is not sent."""
    data: dict[str, Any] = {"keep": form.getall("keep", []), "join": form.getall("join", [])}
    if form.get("topics_shown"):
        data["topics"] = form.getall("topics", [])
    for name in ("frequency", "language"):
        if name in form:
            data[name] = form.get(name)
    return data


class PreferencesController(Controller):
    path = "/u/preferences"
    include_in_schema = False

    async def _page(
        self,
        request: PublicRequest,
        db: AsyncSession,
        token: str,
        *,
        saved: str = "",
        requested_language: str | None = None,
        wait_minutes: int = 0,
        status_code: int = 200,
    ) -> AnyResponse:
        org = await org_settings.load(db)
        try:
            who = await holder(db, token)
            if who.test:
                view = await preference_centre.sample(db, org.subscription_topics)
            else:
                view = await preference_centre.load(db, who.contact_id, org.subscription_topics)
        except NotFound:
            language = language_of(request, requested_language)
            return page("subscriptions/link_invalid.html", language, org, status_code=404)
        language = language_of(request, requested_language, view.contact.language)
        return page(
            "subscriptions/preferences.html",
            language,
            org,
            view=view,
            token=token,
            saved=saved,
            frequencies=FREQUENCIES,
            test=who.test,
            wait_minutes=wait_minutes,
            status_code=status_code,
        )

    @get("/{token:str}", name="preferences")
    async def show(self, request: PublicRequest, db: Db, token: FromPath[str]) -> AnyResponse:
        return await self._page(request, db, token)

    @post("/{token:str}", status_code=200)
    async def save(self, request: PublicRequest, db: Db, token: FromPath[str]) -> AnyResponse:
        try:
            who = await holder(db, token)
        except NotFound:
            return await self._page(request, db, token)
        form = await request.form()
        action, read_in = form.get("action"), form.get("lang")
        if action not in ACTIONS:  # only the page's buttons change anything
            return await self._page(request, db, token, requested_language=read_in, status_code=400)
        if who.test:
            saved = "unsubscribed" if action == "unsubscribe-all" else "saved"
            return await self._page(request, db, token, saved=saved, requested_language=read_in)
        origin = Origin("preferences", client_ip(request), request.headers.get("user-agent", ""))
        if action == "unsubscribe-all":
            if who.delivery_id is not None:
                await engagement.unsubscribe(db, who.delivery_id, "preference centre")
            if who.contact_id is not None:
                await subscriptions.unsubscribe_all(db, who.contact_id, origin)
            return await self._page(request, db, token, saved="unsubscribed", requested_language=read_in)
        org = await org_settings.load(db)
        changes = _changes(form)
        emails_were_in = (await preference_centre.contact(db, who.contact_id)).language
        await preference_centre.save(db, who.contact_id, changes, org.subscription_topics, origin)
        # The page stays in the language it was read in, unless that of the emails was just changed.
        chosen = changes.get("language")
        shown_in = chosen if chosen and chosen != emails_were_in else read_in
        return await self._page(request, db, token, saved="saved", requested_language=shown_in)

    @post("/{token:str}/data", name="preferences-data", status_code=200)
    async def mail_data_link(self, request: PublicRequest, db: Db, token: FromPath[str]) -> AnyResponse:
        """The link to download one's data goes by email to the address itself: the preference
        centre's link is in every message, and messages get forwarded."""
        asked = (await request.form()).get("lang")  # the page comes back in the language it was read in
        try:
            who = await holder(db, token)
            person = None if who.test else await preference_centre.contact(db, who.contact_id)
        except NotFound:
            return await self._page(request, db, token, requested_language=asked)
        if person is None or not await subscriptions.may_receive_confirmation(db, person.email):
            saved = "data-sent" if who.test else ""
            return await self._page(request, db, token, saved=saved, requested_language=asked)
        wait = await throttle.data_email_wait(get_redis(), get_settings().subscriptions, person.email)
        if wait is None:
            await enqueue_data_link(person.id, i18n.normalise(asked))
            return await self._page(request, db, token, saved="data-sent", requested_language=asked)
        minutes = -(-wait // SECONDS_PER_MINUTE)
        return await self._page(request, db, token, saved="data-wait", wait_minutes=minutes, requested_language=asked)


class MyDataController(Controller):
    path = "/u/data"
    include_in_schema = False

    @route("/{token:str}", http_method=GET_OR_HEAD, name="my-data")
    async def download(self, request: PublicRequest, db: Db, token: FromPath[str]) -> AnyResponse:
        """Everything kept about the contact, as a JSON file (GDPR right of access), from the link
        mailed to it (PreferencesController.mail_data_link)."""
        link = read_data_token(token)
        try:
            person = await preference_centre.contact(db, link.contact_id if link else None)
        except NotFound:
            org = await org_settings.load(db)
            return page("subscriptions/link_invalid.html", language_of(request), org, status_code=404)
        if link is None or link.expired:
            org = await org_settings.load(db)
            language = language_of(request, contact_language=person.language)
            preferences_url = f"/u/preferences/{preferences_token(person.id)}"
            return page(
                "subscriptions/data_link_expired.html", language, org, status_code=410, preferences_url=preferences_url
            )
        data = await gdpr.export_contact(db, person.id)
        body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
        return Response(
            body,
            media_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="my-data-{person.id}.json"',
                "Cache-Control": "no-store",
            },
        )
