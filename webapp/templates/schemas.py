"""The templates feature's inputs and outputs: a template (one schema for the editor and the API,
Jinja syntax included), the library's filters, and the template as the API shows it.

Jinja syntax is a rule of the fields that hold template source: a syntax error is reported on its
field as "Line N: message", like any other broken rule. Other features with template source (a
campaign's content) can use the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from jinja2 import Environment, TemplateSyntaxError, nodes, pass_context
from msgspec import UNSET, Meta, Struct, UnsetType, convert

from webapp.core.schemas import Rule, Schema, flag, one_of, tag_list, text

if TYPE_CHECKING:  # rendering (and so each renderer process) uses this module without the ORM
    from webapp.templates.models import EmailTemplate

TemplateType = Literal["marketing", "transactional"]
TEMPLATE_TYPES = ("marketing", "transactional")
TYPE_MESSAGE = "Template type must be marketing or transactional."
NAME_MAX_LENGTH, CATEGORY_MAX_LENGTH = 200, 100
NAME = text(NAME_MAX_LENGTH, blank="Give the template a name.")
MAX_CONTENT = 1_000_000
# Parsing takes time in proportion to a template's pieces (names, operators, tags, text between
# them): 500,000 of them took 4 s, in the web process. Counting up to the limit takes milliseconds.
MAX_TOKENS = 20_000


class _Parser(Environment):
    """Only parses and analyses templates, and never runs them: the sandbox that renders them
    (service/rendering.py) changes what a template may do when it runs, not how it parses.

    Jinja's compiler, which the analysis of a template's variables runs, folds constant
    expressions by computing them (`"x" * 10**9`, `9**9**9`, `"x"|center(10**9)`): in this process,
    with no limit. Here every operator counts as one the sandbox intercepts, and every filter and
    test as one that needs the running template, so nothing is computed: the renderer does that,
    within its limits."""

    sandboxed = True
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})
    intercepted_unops = frozenset({"+", "-"})

    def __init__(self) -> None:
        super().__init__()
        self.filters = dict.fromkeys(self.filters, _not_run_here)  # same names, as the sandbox's
        self.tests = dict.fromkeys(self.tests, _not_run_here)


@pass_context
def _not_run_here(*args: object, **kwargs: object) -> None:
    raise RuntimeError("the parser's environment never renders")


_parser = _Parser()
# Python compiles a template and refuses code nested too deeply (20 loops, 100 indents): blocks
# nested deeper than any email needs are refused here, with their line, instead.
MAX_NESTING = 15
_BLOCKS = (nodes.If, nodes.For, nodes.Macro, nodes.CallBlock, nodes.FilterBlock, nodes.With, nodes.Block)
_OTHER_TEMPLATES = (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)


def parse(source: str) -> nodes.Template:
    """The template's syntax tree, or ValueError("Line N: message") for a syntax error."""
    try:
        pieces = (kind for _, kind, _ in _parser.lex(source) if kind != "whitespace")
        if any(count > MAX_TOKENS for count, _ in enumerate(pieces)):
            raise ValueError(
                f"The template has more than {MAX_TOKENS:,} pieces of template syntax (names, operators, tags and "
                "the text between them): simplify it."
            )
        tree = _parser.parse(source)
        _compilable(tree)
        return tree
    except TemplateSyntaxError as exc:
        raise ValueError(f"Line {exc.lineno}: {exc.message}") from None
    except RecursionError:
        raise ValueError("The template nests too deeply to be read.") from None


def _compilable(tree: nodes.Template) -> None:
    """ValueError("Line N: ...") for what parses but cannot compile or run: an unknown filter or
    test (a typo would fail every recipient's message), another template (there is none to load),
    blocks nested too deeply."""
    for other in tree.find_all(_OTHER_TEMPLATES):
        raise ValueError(f"Line {other.lineno}: a template cannot include, import or extend another template.")
    for used in tree.find_all((nodes.Filter, nodes.Test)):
        kind, known = ("filter", _parser.filters) if isinstance(used, nodes.Filter) else ("test", _parser.tests)
        if used.name not in known:
            raise ValueError(f"Line {used.lineno}: there is no {kind} named '{used.name}'.")
    stack: list[tuple[nodes.Node, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        depth += isinstance(node, _BLOCKS)
        if depth > MAX_NESTING:
            raise ValueError(f"Line {node.lineno}: blocks nest more than {MAX_NESTING} deep; simplify the template.")
        stack.extend((child, depth) for child in node.iter_child_nodes())


def _syntax(value: str, label: str) -> str:
    parse(value)
    return value


def _content(value: str | None, label: str) -> str:
    """Template source kept exactly as written (no trimming: whitespace is part of the message)."""
    if value is None:
        return ""
    if "\x00" in value:  # PostgreSQL text cannot hold NUL
        raise ValueError(f"{label} contains a character that is not allowed (NUL).")
    if len(value) > MAX_CONTENT:
        raise ValueError(f"{label} must be at most {MAX_CONTENT:,} characters.")
    return value


JINJA_SYNTAX = Rule(_syntax)  # after the rule that makes the value text
CONTENT = Rule(_content)  # HTML or text source of a message

# What a message's content is written in: HTML, or Markdown its HTML is made from (service/markdown.py).
ContentFormatName = Literal["html", "markdown"]
CONTENT_FORMATS = ("html", "markdown")
ContentFormat = Annotated[
    ContentFormatName | UnsetType,
    Meta(title="Written in"),
    one_of(CONTENT_FORMATS, "Content format must be html or markdown."),
]
MarkdownContent = Annotated[str | UnsetType | None, Meta(title="Markdown"), CONTENT, JINJA_SYNTAX]


class TemplateUpdate(Schema, kw_only=True):
    """Changes to a template: only the fields sent change; tags are replaced whole."""

    name: Annotated[str | UnsetType, Meta(title="Name"), NAME] = UNSET
    subject: Annotated[str | UnsetType | None, Meta(title="Subject"), text(500), JINJA_SYNTAX] = UNSET
    content_format: ContentFormat = UNSET
    markdown_content: MarkdownContent = UNSET
    html_content: Annotated[str | UnsetType | None, Meta(title="HTML"), CONTENT, JINJA_SYNTAX] = UNSET
    text_content: Annotated[str | UnsetType | None, Meta(title="Text"), CONTENT, JINJA_SYNTAX] = UNSET
    template_type: Annotated[
        TemplateType | UnsetType, Meta(title="Template type"), one_of(TEMPLATE_TYPES, TYPE_MESSAGE)
    ] = UNSET
    category: Annotated[str | UnsetType | None, Meta(title="Category"), text(CATEGORY_MAX_LENGTH)] = UNSET
    tags: Annotated[list[str] | UnsetType | None, Meta(title="Tags"), tag_list()] = UNSET
    is_active: Annotated[bool | UnsetType, Meta(title="Active"), flag()] = UNSET


class TemplateCreate(TemplateUpdate, kw_only=True):
    """A new template: only `name` is required. Unknown fields are rejected (422)."""

    name: Annotated[str, Meta(title="Name"), NAME]


@dataclass(frozen=True)
class TemplateFilter:
    """Which templates the library lists: every given filter must hold."""

    template_type: str | None = None
    category: str | None = None
    is_active: bool | None = None


# ---- the API's answers --------------------------------------------------------------------------


class TemplateOut(Struct, kw_only=True):
    id: int
    name: str
    subject: str
    content_format: ContentFormatName
    markdown_content: str
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
    """The template as saved (created or changed), plus two warnings: the variables that are neither
    standard nor a contact custom field (they render empty), and why it does not render for the
    sample contact (null when it does)."""

    unknown_variables: list[str]
    sample_error: str | None


class TemplatePageOut(Struct):
    items: list[TemplateOut]
    next_cursor: str | None


def template_out(template: EmailTemplate) -> TemplateOut:
    return convert(template, TemplateOut, from_attributes=True)
