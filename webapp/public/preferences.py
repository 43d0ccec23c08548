"""The page every message links to as {{ preferences_url }}: which lists to stay on, or leave all."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.public.tracking import delivery_id_from
from webapp.services import engagement, lists


class PreferencesController(Controller):
    path = "/u/preferences"
    include_in_schema = False

    async def _page(self, db: AsyncSession, token: str, saved: str = "") -> Template:
        ref = await engagement.delivery(db, delivery_id_from("unsubscribe", token))
        on_lists = await lists.lists_of_contact(db, ref.contact_id) if ref.contact_id else []
        return Template("public/preferences.html", context={
            "email": ref.email, "token": token, "lists": [l for l in on_lists if l.is_active], "saved": saved,
        })

    @get("/{token:str}", name="preferences")
    async def show(self, db: AsyncSession, token: str) -> Template:
        return await self._page(db, token)

    @post("/{token:str}", status_code=200)
    async def save(self, request: Request, db: AsyncSession, token: str) -> Template:
        ref = await engagement.delivery(db, delivery_id_from("unsubscribe", token))
        form = await request.form()
        if form.get("action") == "unsubscribe-all":
            await engagement.unsubscribe(db, ref.id, "preference centre")
            return await self._page(db, token, "You are unsubscribed from all marketing email.")
        keep = {int(v) for v in form.getall("keep", []) if str(v).isdigit()}
        if ref.contact_id:
            for email_list in await lists.lists_of_contact(db, ref.contact_id):
                if email_list.is_active and email_list.id not in keep:
                    await lists.remove_members(db, email_list.id, [ref.contact_id])
        return await self._page(db, token, "Your preferences are saved.")
