"""The campaign wizard's step inputs: a step's part of the campaign, plus where the staff member
goes next (`go`: save, next, back or template), and what a step needs before the wizard goes on."""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET, Meta

from webapp.campaigns.schemas.campaign import (
    CONTENT_MISSING,
    LISTS_MISSING,
    TEMPLATE_MISSING,
    HtmlContent,
    ListIds,
    TemplateId,
    TextContent,
)
from webapp.core.schemas import Schema, Values
from webapp.templates.schemas import ContentFormat, MarkdownContent

Go = Annotated[str, Meta(title="Go")]


class AudienceStep(Schema, kw_only=True):
    """The lists; going on needs one."""

    list_ids: ListIds = UNSET
    go: Go = ""

    @classmethod
    def rules(cls, values: Values) -> dict[str, str]:
        if values.get("go") == "next" and not values.get("list_ids"):
            return {"list_ids": LISTS_MISSING}
        return {}


class ContentStep(Schema, kw_only=True):
    """The HTML (or the Markdown it is made from) and text part, or a template to copy them from
    ("Use this template"); going on needs content."""

    template_id: TemplateId = UNSET
    content_format: ContentFormat = UNSET
    markdown_content: MarkdownContent = UNSET
    html_content: HtmlContent = UNSET
    text_content: TextContent = UNSET
    go: Go = ""

    @classmethod
    def rules(cls, values: Values) -> dict[str, str]:
        if values.get("go") == "template" and values.get("template_id") is None:
            return {"template_id": TEMPLATE_MISSING}
        source = "markdown_content" if values.get("content_format") == "markdown" else "html_content"
        if values.get("go") == "next" and not (values.get(source) or "").strip():
            return {source: CONTENT_MISSING}
        return {}
