"""Staff UI: transactional messages per template (status, opens, clicks), and a template's messages."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from webapp.core.deps import Db
from webapp.core.forms import optional_id
from webapp.templates.service import templates
from webapp.transactional import service as transactional


class TransactionalController(Controller):
    path = "/transactional"

    @get("/", name="transactional")
    async def index(self, db: Db) -> Template:
        return Template("transactional/index.html", context={"templates": await transactional.templates_sent(db)})

    @get("/{template_id:int}")
    async def messages(self, db: Db, template_id: FromPath[int], before: FromQuery[str | None] = None) -> Template:
        template = await templates.get_template(db, template_id)
        cursor = optional_id(before)  # anything that is not an id shows the first page
        page = await transactional.messages_of(db, template.id, cursor)
        return Template(
            "transactional/messages.html",
            context={"template": template, "page": page, "first_page": cursor is None},
        )
