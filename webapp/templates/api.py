"""JSON API: /api/templates. Litestar checks JSON types (400); the service applies the rules (422),
including Jinja syntax errors reported as "Line N: message" on the field."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from litestar import Controller, Request, get, post
from litestar.params import Parameter
from msgspec import UNSET, Struct, UnsetType, convert, structs
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.api import Limit, creator, error_responses, id_parameter, sent_object
from webapp.templates.queries import TemplateFilter
from webapp.templates.service import templates

TemplateId = Annotated[int, id_parameter("Template id.")]
TemplateType = Literal["marketing", "transactional"]


class TemplateCreate(Struct, kw_only=True):
    """A new template: only `name` is required. Unknown fields are rejected (422)."""

    name: str
    subject: str | UnsetType | None = UNSET
    html_content: str | UnsetType | None = UNSET
    text_content: str | UnsetType | None = UNSET
    template_type: TemplateType | UnsetType = UNSET
    category: str | UnsetType | None = UNSET
    tags: list[str] | UnsetType | None = UNSET
    is_active: bool | UnsetType = UNSET


class TemplateOut(Struct, kw_only=True):
    id: int
    name: str
    subject: str
    html_content: str
    text_content: str
    template_type: TemplateType
    category: str
    tags: list[str]
    variables: list[str]
    is_active: bool
    created_by: str
    created_at: datetime
    updated_at: datetime


class TemplateCreated(TemplateOut, kw_only=True):
    """The new template, plus the variables that are neither standard nor a contact custom field
    (a warning: they render empty)."""

    unknown_variables: list[str]


class TemplatePageOut(Struct):
    items: list[TemplateOut]
    next_cursor: str | None


class ApiTemplatesController(Controller):
    path = "/templates"
    tags = ("templates",)

    @post(
        "/",
        summary="Create a template",
        description="Subject, HTML and text are Jinja templates: `{{first_name}}`, custom fields by name, "
        "`{% if %}`, `default(...)`, `{{unsubscribe_url}}`. A syntax error is a 422 naming the field with "
        "`Line N: message`. `variables` lists the variables used; `unknown_variables` those no contact has.",
        responses=error_responses(422),
    )
    async def create_template(self, request: Request, data: TemplateCreate, db: AsyncSession) -> TemplateCreated:
        saved = await templates.create_template(db, await sent_object(request), created_by=creator(request.user))
        out = convert(saved.template, TemplateOut, from_attributes=True)
        return TemplateCreated(**structs.asdict(out), unknown_variables=saved.unknown_variables)

    @get(
        "/",
        summary="List templates",
        description="By name, up to `limit`; pass `next_cursor` back as "
        "`cursor` for the next page. Filters combine with AND.",
        responses=error_responses(),
    )
    async def list_templates(
        self,
        db: AsyncSession,
        template_type: Annotated[TemplateType | None, Parameter(description="marketing or transactional.")] = None,
        category: Annotated[str | None, Parameter(max_length=100, description="Exact category, any case.")] = None,
        is_active: Annotated[bool | None, Parameter(description="true or false.")] = None,
        limit: Limit = 50,
        cursor: Annotated[
            str | None, Parameter(max_length=1000, description="next_cursor of the previous page.")
        ] = None,
    ) -> TemplatePageOut:
        found = await templates.list_templates(
            db, TemplateFilter(template_type, category, is_active), limit=limit, cursor=cursor
        )
        return TemplatePageOut(
            items=[convert(t, TemplateOut, from_attributes=True) for t in found.templates],
            next_cursor=found.next_cursor,
        )

    @get("/{template_id:int}", summary="Get a template", responses=error_responses(404))
    async def get_template(self, db: AsyncSession, template_id: TemplateId) -> TemplateOut:
        return convert(await templates.get_template(db, template_id), TemplateOut, from_attributes=True)
