"""Template library rules: what a template must be to be saved (a name, a known type, Jinja that
parses and renders for a sample contact within the limits), which variables it uses, and previews
rendered for a sample or a real contact (in the renderer processes, renderer.py).

A syntax error blocks saving ("Line N: message" on the field), and so does going over a render
limit for the sample contact (time, memory, size, nesting: it would fail for every recipient);
other render errors may come from data the sample lacks, and show in the preview. A variable that
is neither standard nor a custom field contacts have is only a warning, returned next to the saved
template.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts import service as contacts
from webapp.contacts.models import Contact
from webapp.core.errors import NotFound, ValidationFailed
from webapp.core.schemas import load
from webapp.core.validation import is_valid_id
from webapp.templates import queries
from webapp.templates.models import EmailTemplate
from webapp.templates.queries import TemplatePage
from webapp.templates.schemas import (
    NAME_MAX_LENGTH,
    TEMPLATE_TYPES,
    TYPE_MESSAGE,
    TemplateCreate,
    TemplateFilter,
    TemplateUpdate,
    parse,
)
from webapp.templates.service import markdown, renderer
from webapp.templates.service.rendering import (
    LINK_VARIABLES,
    MessageTemplate,
    RenderError,
    TemplateCheck,
    contact_context,
)

PARTS = ("subject", "html_content", "text_content")
PART_NAMES = {"subject": "Subject", "html_content": "HTML", "text_content": "Text"}
# What a test send's refusal names, besides the parts: the Markdown the HTML is made from, the sender.
TEST_SEND_NAMES = {**PART_NAMES, "markdown_content": "Markdown", "from_email": "Sender"}
CONTENT_FIELDS = ("content_format", "markdown_content", "html_content", "text_content")  # what a copy takes
MAX_EMAIL_LENGTH = 320  # longer is no contact's address

# Previews and test sends: a believable contact, and links that go nowhere.
SAMPLE_CONTACT = SimpleNamespace(
    email="jane.doe@example.com",
    first_name="Jane",
    last_name="Doe",
    phone="+1 555 0100",
    company="Example Co",
    job_title="Marketing Lead",
    location="Lisbon, Portugal",
    custom_fields={},
)
PLACEHOLDER_LINKS = dict.fromkeys(LINK_VARIABLES, "#")


async def _examine(
    session: AsyncSession, parts: Mapping[str, str], contact: Any = None, *, every_contact: bool = True
) -> renderer.Examined:
    """The parts rendered for `contact` (the sample contact when None), with the check's unknown
    variables narrowed to those that no recently added contact has as a custom field, nor (with
    every_contact, when saving) any older one: a scan of up to 2 s, too much for a preview per keystroke."""
    examined = await renderer.examine(parts, contact_context(contact or SAMPLE_CONTACT, PLACEHOLDER_LINKS))
    check = examined.check
    recent = await queries.custom_fields_in_use(session, check.unknown_variables)
    unknown = [v for v in check.unknown_variables if v not in recent]
    if every_contact:
        older = await contacts.custom_fields_used(session, unknown)  # a field only older contacts have
        unknown = [] if older is None else [v for v in unknown if v not in older]  # no answer: no warning
    narrowed = TemplateCheck(check.errors, check.variables, unknown)
    return renderer.Examined(narrowed, examined.rendered, examined.error)


@dataclass(frozen=True)
class SavedTemplate:
    template: EmailTemplate
    unknown_variables: list[str] = field(default_factory=list)
    # Why it does not render for the sample contact, when that is not a limit: the sample may lack
    # data real contacts have, so it saves, but staff should know (sending stops where it fails).
    sample_error: str | None = None


@dataclass(frozen=True)
class _Checked:
    check: TemplateCheck
    sample_error: str | None


async def get_template(session: AsyncSession, template_id: int) -> EmailTemplate:
    template = await session.get(EmailTemplate, template_id) if is_valid_id(template_id) else None
    if template is None:
        raise NotFound(f"Template {template_id} does not exist.")
    return template


async def render_failure(template: EmailTemplate, contact: Any, data: Mapping[str, Any]) -> RenderError | None:
    """Why the template would not render with `data` over the contact's fields (`contact` None: the
    address is no contact's), as the transactional sender renders it; None when it renders."""
    message = MessageTemplate(template.subject, template.html_content, template.text_content, inline_css=False)
    (result,) = await renderer.render_batch(message, [contact_context(contact) | dict(data) | PLACEHOLDER_LINKS])
    return result if isinstance(result, RenderError) else None


async def _checked(session: AsyncSession, parts: Mapping[str, str], markdown_source: str | None) -> _Checked:
    """The template's check and how rendering it for the sample contact failed (on the Markdown's
    lines when the HTML is made from `markdown_source`); ValidationFailed if that went over a limit.
    Before anything is added or changed in the session: a form's 422 still commits it."""
    examined = await _examine(session, parts)
    error = examined.error
    if error is not None and error.limit:
        raise ValidationFailed({error.field or "html_content": error.message})
    if error is None:
        return _Checked(examined.check, None)
    if markdown_source is not None and error.field == "html_content":
        message = markdown.at_source_line(error.message, markdown_source, parts["html_content"])
        return _Checked(examined.check, f"Markdown: {message}")
    return _Checked(examined.check, f"{PART_NAMES.get(error.field or '', 'Content')}: {error.message}")


def _markdown_source(values: Mapping[str, Any], template: EmailTemplate | None = None) -> str | None:
    """The Markdown the HTML is made from, or None for HTML written as such."""
    content_format = values.get("content_format", template.content_format if template else "html")
    if content_format != "markdown":
        return None
    return str(values.get("markdown_content", template.markdown_content if template else "") or "")


async def _saved(session: AsyncSession, template: EmailTemplate, checked: _Checked) -> SavedTemplate:
    template.variables = checked.check.variables
    await session.flush()
    await session.refresh(template)
    return SavedTemplate(template, checked.check.unknown_variables, checked.sample_error)


async def create_template(session: AsyncSession, data: Mapping[str, Any], created_by: str) -> SavedTemplate:
    values = load(TemplateCreate, data)
    await markdown.make_html(values)
    check = await _checked(session, {part: values.get(part) or "" for part in PARTS}, _markdown_source(values))
    template = EmailTemplate(**values, created_by=created_by)
    session.add(template)
    return await _saved(session, template, check)


async def update_template(session: AsyncSession, template_id: int, data: Mapping[str, Any]) -> SavedTemplate:
    template = await get_template(session, template_id)
    changes = load(TemplateUpdate, data, partial=True)
    await markdown.make_html(changes, template)
    parts = {part: changes.get(part, getattr(template, part)) or "" for part in PARTS}
    check = await _checked(session, parts, _markdown_source(changes, template))
    for name, value in changes.items():
        setattr(template, name, value)
    return await _saved(session, template, check)


async def duplicate_template(session: AsyncSession, template_id: int, created_by: str) -> EmailTemplate:
    original = await get_template(session, template_id)
    copy = EmailTemplate(
        name=f"Copy of {original.name}"[:NAME_MAX_LENGTH],
        created_by=created_by,
        tags=list(original.tags),
        variables=list(original.variables),
        is_active=original.is_active,
        **{name: getattr(original, name) for name in ("subject", *CONTENT_FIELDS, "template_type", "category")},
    )
    session.add(copy)
    await session.flush()
    await session.refresh(copy)
    return copy


async def set_active(session: AsyncSession, template_id: int, active: bool) -> EmailTemplate:
    template = await get_template(session, template_id)
    template.is_active = active
    await session.flush()
    return template


async def delete_template(session: AsyncSession, template_id: int) -> None:
    """Campaigns keep their own copy of the content; their template_id becomes NULL."""
    await session.delete(await get_template(session, template_id))
    await session.flush()


def is_cursor(cursor: str) -> bool:
    return queries.is_cursor(cursor)


async def list_templates(
    session: AsyncSession, filters: TemplateFilter, *, limit: int = 50, cursor: str | None = None
) -> TemplatePage:
    if filters.template_type not in (None, *TEMPLATE_TYPES):
        raise ValidationFailed({"template_type": TYPE_MESSAGE})
    return await queries.find_templates(session, filters, limit=limit, cursor=cursor)


async def active_templates(session: AsyncSession, limit: int) -> list[EmailTemplate]:
    """Active templates by name, to choose from (the campaign wizard's content step)."""
    return (await queries.find_templates(session, TemplateFilter(is_active=True), limit=limit)).templates


async def categories(session: AsyncSession) -> list[str]:
    """The categories templates have, for the library's filter."""
    return await queries.categories(session)


async def find_contact(session: AsyncSession, email: Any) -> Contact | None:
    """The contact with exactly this address (case-insensitively), if any."""
    if not isinstance(email, str) or not email.strip() or len(email) > MAX_EMAIL_LENGTH:
        return None
    return await queries.contact_by_email(session, email.strip())


@dataclass(frozen=True)
class Preview:
    subject: str = ""
    html: str = ""
    text: str = ""
    errors: dict[str, str] = field(default_factory=dict)  # part (or "render") -> message
    unknown_variables: list[str] = field(default_factory=list)


async def preview(session: AsyncSession, parts: Mapping[str, str], contact: Any = None) -> Preview:
    """Render what is in the editor for `contact` (the sample contact when None), never raising for
    anything typed: syntax and render errors (a limit named) come back in `errors`. Content written
    in Markdown (`content_format`, `markdown_content` among the parts) has its errors on the Markdown."""
    parts = {part: parts.get(part) or "" for part in (*PARTS, "content_format", "markdown_content")}
    in_markdown = parts["content_format"] == "markdown"
    if in_markdown:
        try:
            parse(parts["markdown_content"])  # its syntax errors name the Markdown's lines
            parts["html_content"] = await markdown.to_html(parts["markdown_content"])
        except ValueError as exc:  # MarkdownRefused is one
            return Preview(errors={"markdown_content": str(exc)})
    examined = await _examine(session, {part: parts[part] for part in PARTS}, contact, every_contact=False)
    unknown = examined.check.unknown_variables
    if examined.check.errors:
        errors = examined.check.errors
        if in_markdown and "html_content" in errors:
            errors = {("markdown_content" if part == "html_content" else part): e for part, e in errors.items()}
        return Preview(errors=errors, unknown_variables=unknown)
    if examined.rendered is None:
        message = examined.error.message if examined.error else "The template could not be rendered."
        part = (examined.error and examined.error.field) or "render"  # the part that failed, when known
        if in_markdown and part == "html_content":
            part = "markdown_content"
            message = markdown.at_source_line(message, parts["markdown_content"], parts["html_content"])
        return Preview(errors={part: message}, unknown_variables=unknown)
    rendered = examined.rendered
    return Preview(rendered.subject, rendered.html, rendered.text, {}, unknown)
