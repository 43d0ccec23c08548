"""The staff home page: how big the audience is and where to go next."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts import service as contacts
from webapp.contacts.schemas import ContactFilter
from webapp.lists.service import lists


class DashboardController(Controller):
    path = "/"

    @get("/", name="dashboard")
    async def dashboard(self, db: AsyncSession) -> Template:
        audience, exact = await contacts.count(db, ContactFilter())
        active_lists = await lists.count_active(db)
        return Template(
            "dashboard/index.html", context={"contacts": audience, "contacts_exact": exact, "lists": active_lists}
        )
