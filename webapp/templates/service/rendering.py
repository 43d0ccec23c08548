"""Personalised rendering of user-written templates, safely.

Templates run in Jinja's ImmutableSandboxedEnvironment (no access to Python internals, no mutation
of the data passed in), with an output size limit checked while rendering and values built with
`*`, `**` and `+` capped before they are built. A template is compiled once per campaign and
rendered once per recipient. This module renders in the calling process: user templates are
rendered through renderer.py, in processes with CPU-time and memory limits.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import css_inline
from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig
from jinja2 import Template, TemplateSyntaxError, meta
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from webapp.core.errors import DomainError, ValidationFailed
from webapp.templates.schemas import parse

CONTACT_VARIABLES = ("email", "first_name", "last_name", "phone", "company", "job_title", "location")
LINK_VARIABLES = ("unsubscribe_url", "preferences_url", "web_version_url")
STANDARD_VARIABLES = frozenset(CONTACT_VARIABLES + LINK_VARIABLES)

MAX_OUTPUT_CHARS = 1_000_000
MAX_SEQUENCE_LENGTH = 100_000
MAX_EXPONENT = 100
TOO_DEEP = "The template nests or calls itself too deeply (a macro that calls itself without end?)."

_TEXT_CONFIG = ParserConfig(css=CSS_PROFILES["relaxed"], display_links=True)


class RenderError(DomainError):
    """A template failed while rendering for one recipient. `limit`: it went over one of the limits
    (time, memory, output size, nesting), rather than failing on the data it was given."""

    def __init__(self, message: str, field: str | None = None, *, limit: bool = False) -> None:
        super().__init__(message, field)
        self.limit = limit

    def __reduce__(self) -> tuple[Any, ...]:  # renderer processes send it back to the caller
        return (_render_error, (self.message, self.field, self.limit))


def _render_error(message: str, field: str | None, limit: bool) -> RenderError:
    return RenderError(message, field, limit=limit)


class _LimitedEnvironment(ImmutableSandboxedEnvironment):
    """Refuses to build a sequence longer than MAX_SEQUENCE_LENGTH with * or + (`'x' * 10**9` fails
    before it takes any memory) and exponents over MAX_EXPONENT."""

    intercepted_binops = frozenset({"*", "**", "+"})

    def call_binop(self, context: Context, op: str, left: Any, right: Any) -> Any:
        if op == "**" and isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
            raise RenderError("Exponent too large in template.", limit=True)
        if op == "*" and _repeated_length(left, right) > MAX_SEQUENCE_LENGTH:
            raise RenderError("A value built in the template is too large.", limit=True)
        result = {"*": operator.mul, "**": operator.pow, "+": operator.add}[op](left, right)
        if isinstance(result, (str, list, tuple)) and len(result) > MAX_SEQUENCE_LENGTH:
            raise RenderError("A value built in the template is too large.", limit=True)
        return result


def _repeated_length(left: Any, right: Any) -> int:
    sequence, times = (left, right) if isinstance(left, (str, list, tuple)) else (right, left)
    if isinstance(sequence, (str, list, tuple)) and isinstance(times, int):
        return len(sequence) * times
    return 0


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


@dataclass(frozen=True)
class MessageTemplate:
    """What a message is compiled from: the key renderer processes keep compiled messages by."""

    subject: str
    html: str
    text: str = ""
    inline_css: bool = True


def check_template(parts: Mapping[str, str], known_custom_fields: Iterable[str] = ()) -> TemplateCheck:
    """Syntax-check each part (subject, html_content, text_content) and list the variables it uses."""
    errors: dict[str, str] = {}
    used: set[str] = set()
    for label, source in parts.items():
        try:
            used |= meta.find_undeclared_variables(parse(source or ""))
        except ValueError as exc:
            errors[label] = str(exc)
        except TemplateSyntaxError as exc:  # what only compiling finds (parse() refuses what is known of it)
            errors[label] = f"Line {exc.lineno}: {exc.message}"
        except RecursionError:
            errors[label] = TOO_DEEP
    known = STANDARD_VARIABLES | set(known_custom_fields)
    return TemplateCheck(errors, sorted(used), sorted(used - known))


class CompiledMessage:
    """Subject, HTML and text templates compiled once; render() per recipient."""

    def __init__(self, subject: str, html: str, text: str = "", *, inline_css: bool = True) -> None:
        check = check_template({"subject": subject, "html_content": html, "text_content": text})
        if check.errors:
            raise ValidationFailed(check.errors)
        try:
            self.subject = _text_env.from_string(subject)
            self.html = _html_env.from_string(html)
            self.text = _text_env.from_string(text) if text.strip() else _text_from_html_template(html)
        except RecursionError:
            raise ValidationFailed({"html_content": TOO_DEEP}) from None
        self.inline_css = inline_css and "<style" in html.lower()

    @classmethod
    def of(cls, template: MessageTemplate) -> CompiledMessage:
        return cls(template.subject, template.html, template.text, inline_css=template.inline_css)

    def render(self, context: Mapping[str, Any]) -> RenderedMessage:
        subject = " ".join(_render(self.subject, context, "subject").split())
        html = _render(self.html, context, "html_content")
        if self.inline_css:
            try:
                html = _INLINER.inline(html)
            except css_inline.InlineError as exc:
                raise RenderError(f"The CSS could not be inlined: {exc}", "html_content") from None
        text = _render(self.text, context, "text_content") if self.text else html_to_text(html)
        return RenderedMessage(subject, html, text)


def _render(template: Template, variables: Mapping[str, Any], part: str) -> str:
    chunks: list[str] = []
    size = 0
    try:
        for chunk in template.generate(variables):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                message = f"The rendered message is larger than {MAX_OUTPUT_CHARS:,} characters."
                raise RenderError(message, part, limit=True)
            chunks.append(chunk)
    except RenderError as exc:
        raise RenderError(_at_line(exc, exc.message), part, limit=exc.limit) from None
    except SecurityError as exc:
        raise RenderError(_at_line(exc, f"The template tried something not allowed: {exc}"), part) from None
    except RecursionError as exc:
        raise RenderError(_at_line(exc, TOO_DEEP), part, limit=True) from None
    except MemoryError:
        raise  # the renderer process's memory limit: reported as such
    except Exception as exc:  # whatever a user's template raises is that template's failure
        raise RenderError(_at_line(exc, f"The template failed: {_in_words(exc)}"), part) from None
    return "".join(chunks)


def _in_words(exc: Exception) -> str:
    """What went wrong, for the errors whose message alone says little (`KeyError: 'a'`)."""
    if isinstance(exc, KeyError):
        return f"nothing is named {exc.args[0]!r} where it looks for it" if exc.args else "a name is missing"
    if isinstance(exc, IndexError):
        return f"it asks for a position past the end ({exc})"
    return str(exc) or exc.__class__.__name__


def _at_line(exc: BaseException, message: str) -> str:
    """The message with the template line the error happened on, as syntax errors name theirs.
    Jinja rewrites a failing render's traceback so that its last template frame has that line."""
    lines = [tb.tb_lineno for tb in _frames(exc.__traceback__) if tb.tb_frame.f_code.co_filename == "<template>"]
    return f"Line {lines[-1]}: {message}" if lines else message


def _frames(tb: TracebackType | None) -> Iterator[TracebackType]:
    while tb is not None:
        yield tb
        tb = tb.tb_next


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


def contact_context(contact: Any, links: Mapping[str, Any] | None = None) -> dict[str, Any]:
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
