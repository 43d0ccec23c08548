"""Emails written in Markdown (CommonMark, with tables and strikethrough): their HTML is made when
they are saved, and the rest of the product (previews, sends, the web version, the archive) sees
that HTML. Raw HTML may be mixed in, as Markdown allows: whoever writes it could write the HTML.

Jinja personalisation is kept as written: Markdown would escape its quotes (`default("there")`)
and percent-encode it in link addresses (`[news]({{ web_version_url }})`), so each `{{ … }}`,
`{% … %}` and `{# … #}` stands aside behind a placeholder of letters and digits while the Markdown
is read, then comes back. A paragraph of nothing but tags (`{% if company %}` on a line of its
own) leaves no empty paragraph behind.

Conversion runs in an isolated process under limits of CPU time and memory (core/isolation.py):
the Markdown is what staff typed, up to a megabyte of it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any, Protocol

from markdown_it import MarkdownIt

from webapp.core import isolation
from webapp.core.errors import ValidationFailed
from webapp.core.isolation import Failed, Limits

LIMITS = Limits(cpu_seconds=5.0, memory_mb=256)
TOO_COSTLY = "The Markdown took too long or too much memory to convert: shorten or simplify it."
MARKDOWN_MISSING = "Write the email in Markdown here: saved empty, it would replace the email's HTML with nothing."
HTML_IS_MADE = (
    'The HTML is made from the Markdown: send markdown_content, or content_format "html" to write the HTML yourself.'
)
JINJA = re.compile(r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
LAYOUT = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ margin: 0; padding: 0; background: #f4f5f7; }}
.message {{ max-width: 600px; margin: 0 auto; padding: 24px; background: #ffffff; color: #1d2433;
  font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; font-size: 16px; line-height: 1.5; }}
h1, h2, h3 {{ line-height: 1.25; margin: 0 0 16px; }}
p, ul, ol, blockquote, pre, table {{ margin: 0 0 16px; }}
a {{ color: #2453d6; }}
img {{ max-width: 100%; height: auto; border: 0; }}
blockquote {{ padding-left: 16px; border-left: 4px solid #d8dce3; color: #4b5563; }}
pre {{ padding: 12px; background: #f4f5f7; overflow-x: auto; }}
code {{ font-family: Menlo, Consolas, monospace; font-size: 14px; }}
table {{ border-collapse: collapse; }}
th, td {{ padding: 6px 10px; border: 1px solid #d8dce3; text-align: left; }}
hr {{ border: 0; border-top: 1px solid #d8dce3; margin: 24px 0; }}
</style>
</head>
<body>
<div class="message">
{body}</div>
</body>
</html>
"""

isolation.preload(__name__)
_pool = isolation.Pool(LIMITS, 1)
_markdown = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


class MarkdownRefused(ValueError):
    """Why the Markdown could not be made into HTML, in words for the person who wrote it."""


class Content(Protocol):
    """A template's or a campaign's content as saved."""

    content_format: str
    markdown_content: str
    html_content: str


async def make_html(values: dict[str, Any], current: Content | None = None) -> None:
    """Changes to a template's or a campaign's content (`values`, as loaded by their schema; `current`:
    what it has now, None for a new one), with the HTML made from the Markdown when the content is
    written in Markdown. ValidationFailed when HTML is sent for such content too, when no Markdown
    would replace the HTML it has (nothing typed is lost by switching), or the Markdown goes over a limit."""
    if values.get("content_format", current.content_format if current else "html") != "markdown":
        return
    if "html_content" in values:
        raise ValidationFailed({"html_content": HTML_IS_MADE})
    if "markdown_content" in values or "content_format" in values:
        source = values.get("markdown_content", current.markdown_content if current else "") or ""
        if not source.strip() and current is not None and current.html_content.strip():
            raise ValidationFailed({"markdown_content": MARKDOWN_MISSING})
        try:
            values["html_content"] = await to_html(source)
        except MarkdownRefused as exc:
            raise ValidationFailed({"markdown_content": str(exc)}) from None


async def html_of(values: Mapping[str, Any]) -> str:
    """The HTML an editor's fields stand for: its HTML box's, or the HTML made from its Markdown."""
    if values.get("content_format") != "markdown":
        return str(values.get("html_content") or "")
    try:
        return await to_html(values.get("markdown_content") or "")
    except MarkdownRefused as exc:
        raise ValidationFailed({"markdown_content": str(exc)}) from None


def without_made_html(values: dict[str, Any]) -> dict[str, Any]:
    """An editor's fields as changes to save: its HTML box is left out when the HTML is made."""
    if values.get("content_format") != "markdown":
        return values
    return {name: value for name, value in values.items() if name != "html_content"}


async def to_html(source: str) -> str:
    """The email's HTML document ("" for no Markdown: no content yet); MarkdownRefused if
    converting went over a limit."""
    if not source.strip():
        return ""
    (result,) = await _pool.amap(_convert, [source])
    if isinstance(result, Failed) or not isinstance(result, str):
        raise MarkdownRefused(TOO_COSTLY)
    return result


def convert(source: str) -> str:
    """The email's HTML document made from Markdown with Jinja in it (in this process)."""
    salt = secrets.token_hex(4)
    tags: list[str] = []

    def stand_aside(found: re.Match[str]) -> str:
        tags.append(found.group())
        return f"MRJINJA{salt}X{len(tags) - 1}X"

    body = _markdown.render(JINJA.sub(stand_aside, source))
    only_statements = re.compile(rf"<p>((?:MRJINJA{salt}X(\d+)X\s*)+)</p>")
    body = only_statements.sub(lambda p: p.group(1) if _all_statements(p.group(1), salt, tags) else p.group(), body)
    body = re.sub(r"<p>(.*?)</p>", lambda p: _statement_lines_outside(p, salt, tags), body, flags=re.DOTALL)
    body = re.sub(rf"MRJINJA{salt}X(\d+)X", lambda p: tags[int(p.group(1))], body)
    return LAYOUT.format(body=body)


def at_source_line(message: str, source: str, html: str) -> str:
    """A render error's message ("Line N: …", N a line of the HTML made from `source`) with the
    Markdown's own line instead. The Jinja tags come through the conversion unchanged and in order,
    so the line's tag is found in the HTML and its twin in the Markdown; the message is kept as it
    is when the line holds no tag (it cannot be told then)."""
    found = re.match(r"Line (\d+): ", message)
    if found is None:
        return message
    line = int(found.group(1))
    in_html, in_source = list(JINJA.finditer(html)), list(JINJA.finditer(source))
    if len(in_html) != len(in_source):
        return message
    for made, written in zip(in_html, in_source, strict=True):
        first = html.count("\n", 0, made.start()) + 1
        if first <= line <= first + made.group().count("\n"):
            moved = source.count("\n", 0, written.start()) + 1 + (line - first)
            return f"Line {moved}: {message[found.end() :]}"
    return message


def _statement_lines_outside(paragraph: re.Match[str], salt: str, tags: list[str]) -> str:
    """A paragraph that opens or closes with lines of nothing but statements (`{% if company %}`
    written on the line above the text, without a blank line): those lines go outside it, so that
    the statement leaves no empty paragraph when it shows nothing. Only when the text between has no
    statement of its own (an `{% else %}` there would leave half a paragraph in each branch)."""
    lines = paragraph.group(1).split("\n")
    lead = _statement_lines(lines, salt, tags)
    trail = _statement_lines(lines[::-1], salt, tags)[::-1] if len(lead) < len(lines) else []
    middle = lines[len(lead) : len(lines) - len(trail)]
    if not (lead or trail) or not middle or not _all_expressions("\n".join(middle), salt, tags):
        return paragraph.group()
    # Each line stays a line: a render error's line number still leads back to the Markdown's
    return (
        "".join(line + "\n" for line in lead)
        + "<p>"
        + "\n".join(middle)
        + "</p>"
        + "".join("\n" + line for line in trail)
    )


def _statement_lines(lines: list[str], salt: str, tags: list[str]) -> list[str]:
    """The first of `lines` that hold nothing but statements."""
    taken = []
    for line in lines:
        if not re.fullmatch(rf"(?:\s*MRJINJA{salt}X\d+X)+\s*", line) or not _all_statements(line, salt, tags):
            break
        taken.append(line)
    return taken


def _all_expressions(text: str, salt: str, tags: list[str]) -> bool:
    return all(tags[int(n)].startswith("{{") for n in re.findall(rf"MRJINJA{salt}X(\d+)X", text))


def _all_statements(placeholders: str, salt: str, tags: list[str]) -> bool:
    return all(not tags[int(n)].startswith("{{") for n in re.findall(rf"MRJINJA{salt}X(\d+)X", placeholders))


def _convert(_: object, source: str) -> str:
    return convert(source)
