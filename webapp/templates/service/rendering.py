"""Personalised rendering of user-written templates, safely.

Templates run in Jinja's ImmutableSandboxedEnvironment (no access to Python internals, no mutation
of the data passed in), with a deadline and an output size limit checked while rendering, so a
template cannot hang a worker or fill its memory. A template is compiled once per campaign and
rendered once per recipient.
"""

from __future__ import annotations

import operator
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import css_inline
from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig
from jinja2 import Template, TemplateSyntaxError, meta
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from webapp.core.errors import DomainError, ValidationFailed
from webapp.templates.schemas import parse

CONTACT_VARIABLES = ("email", "first_name", "last_name", "phone", "company", "job_title", "location")
LINK_VARIABLES = ("unsubscribe_url", "preferences_url")
STANDARD_VARIABLES = frozenset(CONTACT_VARIABLES + LINK_VARIABLES)

MAX_OUTPUT_CHARS = 1_000_000
MAX_RENDER_SECONDS = 2.0
MAX_SEQUENCE_LENGTH = 100_000

_TEXT_CONFIG = ParserConfig(css=CSS_PROFILES["relaxed"], display_links=True)


class RenderError(DomainError):
    """A template failed while rendering for one recipient (too slow, too big, forbidden access)."""


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.until = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.until:
            raise RenderError(f"The template took longer than {MAX_RENDER_SECONDS:g} s to render.")


class _LimitedEnvironment(ImmutableSandboxedEnvironment):
    """Checks the render deadline on every call and arithmetic operation, and caps the
    size of sequences built with * so `'x' * 10**9` fails instead of eating memory."""

    intercepted_binops = frozenset({"*", "**", "+"})

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _deadline_of(__context).check()
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: Context, op: str, left: Any, right: Any) -> Any:
        _deadline_of(context).check()
        if op == "**" and isinstance(right, (int, float)) and abs(right) > 100:
            raise RenderError("Exponent too large in template.")
        result = {"*": operator.mul, "**": operator.pow, "+": operator.add}[op](left, right)
        if isinstance(result, (str, list, tuple)) and len(result) > MAX_SEQUENCE_LENGTH:
            raise RenderError("A value built in the template is too large.")
        return result


def _deadline_of(context: Context) -> _Deadline:
    deadline = context.get("__deadline__")
    return deadline if isinstance(deadline, _Deadline) else _Deadline(MAX_RENDER_SECONDS)


# Never fetch <link rel=stylesheet> URLs: a template author must not make the server request
# arbitrary (internal) addresses, and a failed fetch must not fail a send. At-rules (@media, ...)
# cannot be inlined: they stay in a <style> in the head for the mail apps that read it.
_INLINER = css_inline.CSSInliner(load_remote_stylesheets=False, keep_at_rules=True)

_html_env = _LimitedEnvironment(autoescape=True)
_text_env = _LimitedEnvironment(autoescape=False)


@dataclass(frozen=True)
class TemplateCheck:
    """What an editor needs to know: errors block saving; unknown variables are only a warning."""

    errors: dict[str, str] = field(default_factory=dict)
    variables: list[str] = field(default_factory=list)
    unknown_variables: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    html: str
    text: str


def check_template(parts: Mapping[str, str], known_custom_fields: Iterable[str] = ()) -> TemplateCheck:
    """Syntax-check each part (subject, html_content, text_content) and list the variables it uses."""
    errors: dict[str, str] = {}
    used: set[str] = set()
    for label, source in parts.items():
        try:
            used |= meta.find_undeclared_variables(parse(source or ""))
        except ValueError as exc:
            errors[label] = str(exc)
    known = STANDARD_VARIABLES | set(known_custom_fields)
    return TemplateCheck(errors, sorted(used), sorted(used - known))


class CompiledMessage:
    """Subject, HTML and text templates compiled once; render() per recipient."""

    def __init__(self, subject: str, html: str, text: str = "", *, inline_css: bool = True) -> None:
        check = check_template({"subject": subject, "html_content": html, "text_content": text})
        if check.errors:
            raise ValidationFailed(check.errors)
        self.subject = _text_env.from_string(subject)
        self.html = _html_env.from_string(html)
        self.text = _text_env.from_string(text) if text.strip() else _text_from_html_template(html)
        self.inline_css = inline_css and "<style" in html.lower()

    def render(self, context: Mapping[str, Any]) -> RenderedMessage:
        deadline = _Deadline(MAX_RENDER_SECONDS)
        variables = {**context, "__deadline__": deadline}
        subject = " ".join(_render(self.subject, variables, deadline).split())
        html = _render(self.html, variables, deadline)
        if self.inline_css:
            try:
                html = _INLINER.inline(html)
            except css_inline.InlineError as exc:
                raise RenderError(f"The CSS could not be inlined: {exc}") from None
        text = _render(self.text, variables, deadline) if self.text else html_to_text(html)
        return RenderedMessage(subject, html, text)


def _render(template: Template, variables: Mapping[str, Any], deadline: _Deadline) -> str:
    chunks: list[str] = []
    size = 0
    try:
        for chunk in template.generate(variables):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise RenderError(f"The rendered message is larger than {MAX_OUTPUT_CHARS:,} characters.")
            deadline.check()
            chunks.append(chunk)
    except SecurityError as exc:
        raise RenderError(f"The template tried something not allowed: {exc}") from None
    except (TemplateError, ArithmeticError, TypeError, ValueError) as exc:
        raise RenderError(f"The template failed: {exc}") from None
    return "".join(chunks)


def _text_from_html_template(html: str) -> Template | None:
    """A text template derived once from the HTML template, so the text part costs one more
    template render per recipient instead of an HTML-to-text conversion (~1 ms) per message.
    Template tags survive the conversion as text; when a statement does not (one inside an
    attribute the conversion drops), the text is converted per message instead (returns None)."""
    derived = html_to_text(html)
    try:
        template = _text_env.from_string(derived)
    except TemplateSyntaxError:
        return None
    statements = re.compile(r"{%.*?%}", re.S)
    if len(statements.findall(derived)) != len(statements.findall(html)):
        return None
    return template


def html_to_text(html: str) -> str:
    """Plain text laid out from the HTML, each line without the spaces that table layouts and
    centring pad it with (they made the text part bigger than the HTML), and no two blank lines in a row."""
    lines = (line.strip() for line in get_text(html, _TEXT_CONFIG).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def contact_context(contact: Any, links: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Template variables for one contact. Empty fields are left out so `{% if first_name %}` and
    `default("there")` behave as people expect; custom fields never override standard ones."""
    values: dict[str, Any] = {
        name: value
        for name, value in (getattr(contact, "custom_fields", None) or {}).items()
        if value not in (None, "") and name not in STANDARD_VARIABLES
    }
    for name in CONTACT_VARIABLES:
        value = getattr(contact, name, "")
        if value:
            values[name] = value
    values.update(links or {})
    return values
