"""JSON API: /api/templates. Litestar checks JSON types (400); the service applies the rules (422),
including Jinja syntax errors reported as "Line N: message" on the field."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post, put
from litestar.params import JSONBody, Parameter
from msgspec import structs

from webapp.core.api import Cursor, Limit, checked_cursor, creator, error_responses, id_parameter, sent_object
from webapp.core.deps import Db
from webapp.core.http import StaffRequest
from webapp.templates.schemas import (
    CATEGORY_MAX_LENGTH,
    TemplateCreate,
    TemplateCreated,
    TemplateFilter,
    TemplateOut,
    TemplatePageOut,
    TemplateType,
    TemplateUpdate,
    template_out,
)
from webapp.templates.service import templates

TemplateId = Annotated[int, id_parameter("Template id.")]


class ApiTemplatesController(Controller):
    path = "/templates"
    tags = ("templates",)

    @post(
        "/",
        summary="Create a template",
        description="Subject, HTML and text are Jinja templates: `{{first_name}}`, custom fields by name, "
        "`{% if %}`, `default(...)`, `{{unsubscribe_url}}`. A syntax error is a 422 naming the field with "
        "`Line N: message`. `variables` lists the variables used; `unknown_variables` those no contact has; "
        "`sample_error` why it does not render for the sample contact (it still saves: real contacts may have "
        "what it needs). "
        'To write it in Markdown, send `content_format` "markdown" and `markdown_content`: the HTML is made '
        "from it (and is not sent).",
        responses=error_responses(422),
    )
    async def create_template(self, request: StaffRequest, data: JSONBody[TemplateCreate], db: Db) -> TemplateCreated:
        saved = await templates.create_template(db, await sent_object(request), created_by=creator(request.user))
        out = template_out(saved.template)
        return TemplateCreated(
            **structs.asdict(out), unknown_variables=saved.unknown_variables, sample_error=saved.sample_error
        )

    @get(
        "/",
        summary="List templates",
        description="By name, up to `limit`; pass `next_cursor` back as "
        "`cursor` for the next page. Filters combine with AND.",
        responses=error_responses(),
    )
    async def list_templates(
        self,
        db: Db,
        template_type: Annotated[TemplateType | None, Parameter(description="marketing or transactional.")] = None,
        category: Annotated[
            str | None, Parameter(max_length=CATEGORY_MAX_LENGTH, description="Exact category, any case.")
        ] = None,
        is_active: Annotated[bool | None, Parameter(description="true or false.")] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> TemplatePageOut:
        filters = TemplateFilter(template_type, category, is_active)
        found = await templates.list_templates(
            db, filters, limit=limit, cursor=checked_cursor(cursor, templates.is_cursor)
        )
        return TemplatePageOut(
            items=[template_out(template) for template in found.templates],
            next_cursor=found.next_cursor,
        )

    @get("/{template_id:int}", summary="Get a template", responses=error_responses(404))
    async def get_template(self, db: Db, template_id: TemplateId) -> TemplateOut:
        return template_out(await templates.get_template(db, template_id))

    @put(
        "/{template_id:int}",
        summary="Change a template",
        responses=error_responses(404, 422),
        description="Fields not sent keep their value; `tags` are replaced whole. Campaigns made from the "
        "template keep the content they copied. For a template written in Markdown, send `markdown_content` "
        "(422 for `html_content`, which is made from it).",
    )
    async def update_template(
        self, request: StaffRequest, data: JSONBody[TemplateUpdate], db: Db, template_id: TemplateId
    ) -> TemplateCreated:
        saved = await templates.update_template(db, template_id, await sent_object(request))
        return TemplateCreated(
            **structs.asdict(template_out(saved.template)),
            unknown_variables=saved.unknown_variables,
            sample_error=saved.sample_error,
        )

    @delete(
        "/{template_id:int}",
        summary="Delete a template",
        responses=error_responses(404),
        description="Campaigns made from it keep their content (their `template_id` becomes null).",
    )
    async def delete_template(self, db: Db, template_id: TemplateId) -> None:
        await templates.delete_template(db, template_id)
