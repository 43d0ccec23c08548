"""Template library rules: what a template must be to be saved (a name, a known type, Jinja that
parses), which variables it uses, and previews rendered for a sample or a real contact.

A syntax error blocks saving ("Line N: message" on the field); a variable that is neither standard
nor a custom field contacts have is only a warning, returned next to the saved template.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts.models import Contact
from webapp.core.errors import NotFound, ValidationFailed
from webapp.core.validation import bool_field, is_valid_id, normalize_tags, text_field
from webapp.templates import queries as template_queries
from webapp.templates.models import EmailTemplate
from webapp.templates.queries import TemplateFilter, TemplatePage
from webapp.templates.service.rendering import (
    CompiledMessage,
    RenderError,
    TemplateCheck,
    check_template,
    contact_context,
)

TEMPLATE_TYPES = ("marketing", "transactional")
TEXT_FIELDS = {"name": ("Name", 200), "subject": ("Subject", 500), "category": ("Category", 100)}
PARTS = ("subject", "html_content", "text_content")
MAX_CONTENT = 1_000_000
FIELDS = {*TEXT_FIELDS, *PARTS, "template_type", "tags", "is_active"}

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
PLACEHOLDER_LINKS = {"unsubscribe_url": "#", "preferences_url": "#"}


def _content(raw: Any, label: str) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise ValueError(f"{label} must be text.")
    if "\x00" in raw:
        raise ValueError(f"{label} contains a character that is not allowed (NUL).")
    if len(raw) > MAX_CONTENT:
        raise ValueError(f"{label} must be at most {MAX_CONTENT:,} characters.")
    return raw


def validate_template(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """The values to store, or ValidationFailed naming each bad field (syntax errors as "Line N: ...")."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, (label, limit) in TEXT_FIELDS.items():
        if name in data or (not partial and name == "name"):
            try:
                values[name] = text_field(data.get(name), label, limit)
            except ValueError as exc:
                errors[name] = str(exc)
    if "name" in values and not values["name"]:
        errors["name"] = "Give the template a name."
    for name, label in (("html_content", "HTML"), ("text_content", "Text")):
        if name in data:
            try:
                values[name] = _content(data[name], label)
            except ValueError as exc:
                errors[name] = str(exc)
    if "template_type" in data:
        raw = data["template_type"]
        if isinstance(raw, str) and raw in TEMPLATE_TYPES:
            values["template_type"] = raw
        else:
            errors["template_type"] = "Template type must be marketing or transactional."
    if "tags" in data:
        try:
            values["tags"] = normalize_tags(data["tags"])
        except ValueError as exc:
            errors["tags"] = str(exc)
    if "is_active" in data:
        try:
            values["is_active"] = bool_field(data["is_active"], "Active")
        except ValueError as exc:
            errors["is_active"] = str(exc)
    for name in sorted(set(data) - FIELDS, key=str):
        errors[str(name)] = "Unknown field."
    syntax = check_template({part: values[part] for part in PARTS if part in values})
    errors.update({part: message for part, message in syntax.errors.items() if part not in errors})
    if errors:
        raise ValidationFailed(errors)
    return values


async def inspect(session: AsyncSession, parts: Mapping[str, str]) -> TemplateCheck:
    """Syntax errors, variables used, and those that are neither standard nor a contact custom field."""
    check = check_template(parts)
    known = await template_queries.custom_fields_in_use(session, check.unknown_variables)
    return TemplateCheck(check.errors, check.variables, [v for v in check.unknown_variables if v not in known])


@dataclass(frozen=True)
class SavedTemplate:
    template: EmailTemplate
    unknown_variables: list[str] = field(default_factory=list)


async def get_template(session: AsyncSession, template_id: int) -> EmailTemplate:
    template = await session.get(EmailTemplate, template_id) if is_valid_id(template_id) else None
    if template is None:
        raise NotFound(f"Template {template_id} does not exist.")
    return template


async def _save(session: AsyncSession, template: EmailTemplate) -> SavedTemplate:
    check = await inspect(session, {part: getattr(template, part) or "" for part in PARTS})
    template.variables = check.variables
    await session.flush()
    await session.refresh(template)
    return SavedTemplate(template, check.unknown_variables)


async def create_template(session: AsyncSession, data: Mapping[str, Any], created_by: str) -> SavedTemplate:
    template = EmailTemplate(**validate_template(data), created_by=created_by)
    session.add(template)
    return await _save(session, template)


async def update_template(session: AsyncSession, template_id: int, data: Mapping[str, Any]) -> SavedTemplate:
    template = await get_template(session, template_id)
    for name, value in validate_template(data, partial=True).items():
        setattr(template, name, value)
    return await _save(session, template)


async def duplicate_template(session: AsyncSession, template_id: int, created_by: str) -> EmailTemplate:
    original = await get_template(session, template_id)
    copy = EmailTemplate(
        name=f"Copy of {original.name}"[:200],
        created_by=created_by,
        tags=list(original.tags),
        variables=list(original.variables),
        is_active=original.is_active,
        **{
            name: getattr(original, name)
            for name in ("subject", "html_content", "text_content", "template_type", "category")
        },
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


async def list_templates(
    session: AsyncSession, filters: TemplateFilter, *, limit: int = 50, cursor: str | None = None
) -> TemplatePage:
    if filters.template_type not in (None, *TEMPLATE_TYPES):
        raise ValidationFailed({"template_type": "Template type must be marketing or transactional."})
    return await template_queries.find_templates(session, filters, limit=limit, cursor=cursor)


async def find_contact(session: AsyncSession, email: Any) -> Contact | None:
    """The contact with exactly this address (case-insensitively), if any."""
    if not isinstance(email, str) or not email.strip() or len(email) > 320:
        return None
    return await session.scalar(select(Contact).where(func.lower(Contact.email) == email.strip().lower()))


@dataclass(frozen=True)
class Preview:
    subject: str = ""
    html: str = ""
    text: str = ""
    errors: dict[str, str] = field(default_factory=dict)  # part (or "render") -> message
    unknown_variables: list[str] = field(default_factory=list)


async def preview(session: AsyncSession, parts: Mapping[str, str], contact: Any = None) -> Preview:
    """Render what is in the editor for `contact` (the sample contact when None), never raising for
    anything typed: syntax and render errors come back in `errors`."""
    check = await inspect(session, parts)
    if check.errors:
        return Preview(errors=check.errors, unknown_variables=check.unknown_variables)
    # No CSS inlining here: the browser applies <style> itself, and inlining may fetch stylesheets.
    compiled = CompiledMessage(
        parts.get("subject", ""), parts.get("html_content", ""), parts.get("text_content", ""), inline_css=False
    )
    try:
        rendered = compiled.render(contact_context(contact or SAMPLE_CONTACT, PLACEHOLDER_LINKS))
    except RenderError as exc:
        return Preview(errors={"render": exc.message}, unknown_variables=check.unknown_variables)
    return Preview(rendered.subject, rendered.html, rendered.text, {}, check.unknown_variables)
