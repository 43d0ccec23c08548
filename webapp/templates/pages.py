"""Staff UI: the template library and the editor (live preview, test send, duplicate,
activate/deactivate, delete)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.contacts import service as contacts
from webapp.contacts.schemas import ContactFilter
from webapp.core.access import EDITORS_ONLY
from webapp.core.audit_trail import CHANGES_NOTHING
from webapp.core.deps import Db
from webapp.core.errors import Conflict, ValidationFailed
from webapp.core.forms import FormFields, after_change, field_errors, first, read_form
from webapp.core.http import AnyResponse, StaffRequest
from webapp.delivery.test_send import MAX_RECIPIENTS, TemplateTest, send_test
from webapp.settings.service import organisation as org_settings
from webapp.staff.service import users
from webapp.templates.models import EmailTemplate
from webapp.templates.schemas import CATEGORY_MAX_LENGTH, TEMPLATE_TYPES, TemplateFilter
from webapp.templates.service import markdown, templates
from webapp.templates.service.templates import SavedTemplate

PAGE_SIZE = 50
STATUSES = {"active": True, "inactive": False}
FORM_FIELDS = (
    "name",
    "subject",
    "content_format",
    "markdown_content",
    "html_content",
    "text_content",
    "template_type",
    "category",
    "tags",
)
# Contacts suggested for "Preview as", found by what was typed (as the contacts search box would).
SUGGESTIONS, SEARCH_LENGTH = 8, 200
STARTER_HTML = """<html>
<body style="font-family: Arial, sans-serif; color: #1d2433;">
  <h1>Hello {{ first_name | default("there") }}!</h1>
  <p>Write your message here.</p>
  <p style="font-size: 12px; color: #6b7280;"><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>
</body>
</html>
"""
STARTER_MARKDOWN = """# Hello {{ first_name | default("there") }}!

Write your message here: **bold**, *italic*, [a link](https://example.com), and lists:

- one thing
- another
"""


def _typed(form: FormFields) -> dict[str, str]:
    """The editor's fields as typed, with the line ends the textareas showed (browsers send CRLF)."""
    values = {name: first(form, name).replace("\r\n", "\n") for name in FORM_FIELDS}
    values["template_type"] = values["template_type"] or "marketing"
    values["content_format"] = values["content_format"] or "html"
    return values


def _test_failure(errors: dict[str, str], values: dict[str, str], html: str) -> dict[str, str]:
    """A test send's refusal: the addresses' problems on the To field ("error"), the content's and
    the sender's apart ("content_error"), each named by the part of the editor it is in (`html`:
    what the Markdown was made into, whose lines a render error names)."""
    if "recipients" in errors:
        return {"error": errors["recipients"]}
    named = []
    for part, message in errors.items():
        if part == "html_content" and values["content_format"] == "markdown":
            named.append(f"Markdown: {markdown.at_source_line(message, values['markdown_content'], html)}")
        else:
            named.append(f"{templates.TEST_SEND_NAMES.get(part, 'Content')}: {message}")
    return {"content_error": " ".join(named)}


def _template_data(values: dict[str, str]) -> dict[str, Any]:
    """A template (TemplateCreate's shape) from the editor's fields: tags are typed with commas."""
    return markdown.without_made_html(values) | {"tags": values["tags"].split(",")}


def _template_values(template: EmailTemplate) -> dict[str, Any]:
    values = {name: getattr(template, name) for name in FORM_FIELDS}
    values["tags"] = ", ".join(template.tags)
    return values


def _parts(values: dict[str, Any]) -> dict[str, str]:
    return {part: values[part] for part in (*templates.PARTS, "content_format", "markdown_content")}


def _flash_saved(request: StaffRequest, saved: SavedTemplate, verb: str) -> None:
    flash(request, f"Template '{saved.template.name}' {verb}.", "success")
    if saved.unknown_variables:
        flash(
            request,
            "Unknown variables: "
            + ", ".join(saved.unknown_variables)
            + ". No contact has custom fields with these names, so they render empty.",
            "warning",
        )
    if saved.sample_error:
        flash(
            request,
            f"It does not render for the sample contact ({saved.sample_error}). Real contacts may have what it "
            "needs; a campaign cannot be sent while it fails.",
            "warning",
        )


async def _editor(
    request: StaffRequest,
    db: AsyncSession,
    template: EmailTemplate | None,
    values: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    preview_email: str = "",
    recipients: str | None = None,
    test_result: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    contact = await templates.find_contact(db, preview_email)
    context: dict[str, Any] = {
        "template": template,
        "values": values,
        "errors": errors or {},
        "type_options": [(name, name.capitalize()) for name in TEMPLATE_TYPES],
        "preview": await templates.preview(db, _parts(values), contact),
        "preview_email": preview_email,
        "preview_contact": contact,
        "contact_options": [],
        "recipients": recipients if recipients is not None else await users.email_of(db, request.user.id),
        "test_result": test_result or {},
        "max_recipients": MAX_RECIPIENTS,
    }
    return Template("templates/editor.html", context=context, status_code=status_code)


class TemplatesController(Controller):
    path = "/templates"

    @get("/", name="templates")
    async def index(
        self,
        request: HTMXRequest,
        db: Db,
        template_type: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        params = {
            "template_type": template_type if template_type in TEMPLATE_TYPES else "",
            "category": (category or "").strip()[:CATEGORY_MAX_LENGTH],
            "status": status if status in STATUSES else "",
        }
        filters = TemplateFilter(
            params["template_type"] or None, params["category"] or None, STATUSES.get(params["status"])
        )
        found = await templates.list_templates(db, filters, limit=PAGE_SIZE, cursor=cursor)
        context = {
            "page": found,
            "params": params,
            "cursor": cursor or "",
            "types": TEMPLATE_TYPES,
            "categories": await templates.categories(db),
        }
        if request.htmx.target == "template-library" and not request.htmx.history_restore_request:
            return Template("templates/_library.html", context=context, headers={"Vary": "HX-Request, HX-Target"})
        return Template("templates/index.html", context=context, headers={"Vary": "HX-Request, HX-Target"})

    @get("/new", opt=EDITORS_ONLY)
    async def new(self, request: StaffRequest, db: Db) -> Template:
        values = dict.fromkeys(FORM_FIELDS, "") | {
            "template_type": "marketing",
            "content_format": "html",
            "html_content": STARTER_HTML,
            "markdown_content": STARTER_MARKDOWN,
            "subject": "News for {{ first_name | default('you') }}",
        }
        return await _editor(request, db, None, values)

    @post("/")
    async def create(self, request: StaffRequest, db: Db) -> AnyResponse:
        form = await read_form(request)
        values = _typed(form)
        try:
            saved = await templates.create_template(db, _template_data(values), created_by=request.user.name)
        except ValidationFailed as exc:
            return await _editor(
                request,
                db,
                None,
                values,
                errors=exc.errors,
                preview_email=first(form, "preview_email"),
                recipients=first(form, "recipients"),
                status_code=422,
            )
        _flash_saved(request, saved, "created")
        return after_change(request, f"/templates/{saved.template.id}")

    @get("/{template_id:int}")
    async def edit(self, request: StaffRequest, db: Db, template_id: FromPath[int]) -> Template:
        template = await templates.get_template(db, template_id)
        return await _editor(request, db, template, _template_values(template))

    @post("/{template_id:int}")
    async def update(self, request: StaffRequest, db: Db, template_id: FromPath[int]) -> AnyResponse:
        template = await templates.get_template(db, template_id)
        form = await read_form(request)
        values = _typed(form)
        try:
            saved = await templates.update_template(db, template_id, _template_data(values))
        except ValidationFailed as exc:
            return await _editor(
                request,
                db,
                template,
                values,
                errors=exc.errors,
                preview_email=first(form, "preview_email"),
                status_code=422,
            )
        _flash_saved(request, saved, "saved")
        return after_change(request, f"/templates/{template_id}")

    @post(["/preview", "/{template_id:int}/preview"], opt=CHANGES_NOTHING)
    async def preview(self, request: HTMXRequest, db: Db, template_id: FromPath[int | None] = None) -> Template:
        """The preview partial for the editor's live updates; the whole editor without JavaScript."""
        form = await read_form(request)
        values, preview_email = _typed(form), first(form, "preview_email").strip()
        template = await templates.get_template(db, template_id) if template_id is not None else None
        if not request.htmx:
            return await _editor(
                request, db, template, values, preview_email=preview_email, recipients=first(form, "recipients")
            )
        contact = await templates.find_contact(db, preview_email)
        options = []
        if preview_email and contact is None:
            found = await contacts.page(db, ContactFilter(q=preview_email[:SEARCH_LENGTH]), limit=SUGGESTIONS)
            options = found.contacts
        context = {
            "preview": await templates.preview(db, _parts(values), contact),
            "preview_email": preview_email,
            "preview_contact": contact,
            "contact_options": options,
            "oob": True,
        }
        return Template("templates/_preview.html", context=context)

    @post(["/test-send", "/{template_id:int}/test-send"])
    async def test_send(self, request: HTMXRequest, db: Db, template_id: FromPath[int | None] = None) -> Template:
        form = await read_form(request)
        values, preview_email, recipients = _typed(form), first(form, "preview_email"), first(form, "recipients")
        template = await templates.get_template(db, template_id) if template_id is not None else None
        contact = await templates.find_contact(db, preview_email) or templates.SAMPLE_CONTACT
        org = await org_settings.load(db)
        html = ""
        try:
            html = await markdown.html_of(values)
            source = TemplateTest(
                values["subject"],
                html,
                values["text_content"],
                org.default_from_name or org.organisation_name,
                org.default_from_email or await users.email_of(db, request.user.id),
            )
            sent = await send_test(db, source, recipients, contact)
        except (ValidationFailed, Conflict) as exc:
            result, status_code = _test_failure(field_errors(exc), values, html), 422
        else:
            who = "the sample contact" if contact is templates.SAMPLE_CONTACT else contact.email
            result, status_code = (
                {"ok": f"Sent {len(sent)} test email{'s' if len(sent) != 1 else ''} rendered for {who}."},
                200,
            )
        if request.htmx:
            context = {
                "recipients": recipients,
                "test_result": result,
                "max_recipients": MAX_RECIPIENTS,
                "template": template,
            }
            return Template("templates/_test_send.html", context=context, status_code=status_code)
        return await _editor(
            request,
            db,
            template,
            values,
            preview_email=preview_email,
            recipients=recipients,
            test_result=result,
            status_code=status_code,
        )

    @post("/{template_id:int}/duplicate")
    async def duplicate(self, request: StaffRequest, db: Db, template_id: FromPath[int]) -> AnyResponse:
        copy = await templates.duplicate_template(db, template_id, created_by=request.user.name)
        flash(request, f"Created '{copy.name}'. Rename it and make your changes.", "success")
        return after_change(request, f"/templates/{copy.id}")

    @post("/{template_id:int}/active")
    async def set_active(self, request: StaffRequest, db: Db, template_id: FromPath[int]) -> AnyResponse:
        form = await read_form(request)
        active = first(form, "is_active") == "true"
        template = await templates.set_active(db, template_id, active)
        flash(request, f"Template '{template.name}' {'activated' if active else 'deactivated'}.", "success")
        back = first(form, "back")
        return after_change(request, back if back == "/templates" else f"/templates/{template_id}")

    @get("/{template_id:int}/delete", opt=EDITORS_ONLY)
    async def confirm_delete(self, db: Db, template_id: FromPath[int]) -> Template:
        return Template("templates/delete.html", context={"template": await templates.get_template(db, template_id)})

    @post("/{template_id:int}/delete")
    async def delete(self, request: StaffRequest, db: Db, template_id: FromPath[int]) -> AnyResponse:
        name = (await templates.get_template(db, template_id)).name
        await templates.delete_template(db, template_id)
        flash(request, f"Template '{name}' deleted. Campaigns that used it keep their own copy.", "success")
        return after_change(request, "/templates")
