"""The staff home page: how big the audience is and where to go next."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts import service as contacts
from webapp.contacts.schemas import ContactFilter
from webapp.lists.models import EmailList


class DashboardController(Controller):
    path = "/"

    @get("/", name="dashboard")
    async def dashboard(self, db: AsyncSession) -> Template:
        audience, exact = await contacts.count(db, ContactFilter())
        lists = await db.scalar(select(func.count()).select_from(EmailList).where(EmailList.is_active)) or 0
        return Template("dashboard/index.html", context={"contacts": audience, "contacts_exact": exact, "lists": lists})
