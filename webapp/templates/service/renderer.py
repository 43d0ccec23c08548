"""Where user templates run: a few renderer processes (core/isolation.py) per web or worker process,
each template compiled there once and kept (the last few), each message rendered under a CPU-time
limit, each process under a memory limit. A template that loops for ever, builds huge values or
recurses without end costs a renderer process its time or its life, never the web server's event
loop or a worker, and fails with a message that names the limit.

Everything that renders a user's template goes through here: the template editor's and the
campaign wizard's previews, saving a template, test sends, the API's copies of sent emails and
the send pipeline (`render_batch`: a batch of recipients per call, one result per recipient, the
message or its RenderError).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from webapp.core import isolation
from webapp.core.errors import ValidationFailed
from webapp.core.isolation import Failed, Kind, Limits
from webapp.templates.service.rendering import (
    CompiledMessage,
    MessageTemplate,
    RenderedMessage,
    RenderError,
    TemplateCheck,
    check_template,
)

MAX_RENDER_SECONDS = 2.0  # CPU time per message
MAX_COMPILE_SECONDS = 10.0  # CPU time to compile a template (the largest the schema takes needs ~1 s)
RENDER_MEMORY_MB = 256  # per renderer process, beyond what it needs to start
RENDERERS = 2  # processes per web or worker process
KEPT_COMPILED = 4  # templates a renderer keeps compiled

LIMITS = Limits(cpu_seconds=MAX_RENDER_SECONDS, memory_mb=RENDER_MEMORY_MB, setup_cpu_seconds=MAX_COMPILE_SECONDS)
isolation.preload(__name__)
_pool = isolation.Pool(LIMITS, RENDERERS)

OVER_TIME = (
    f"The template took longer than {MAX_RENDER_SECONDS:g} s to render (or {MAX_COMPILE_SECONDS:g} s to "
    "compile): the time limit. Look for loops inside loops."
)
OVER_MEMORY = f"The template needed more than {RENDER_MEMORY_MB} MB of memory to render: the memory limit."
SKIPPED = "Not rendered: the template went over its limits for the recipients before this one."


@dataclass(frozen=True)
class Examined:
    """A template as the editor shows it: its check, and the sample rendered (or why not)."""

    check: TemplateCheck
    rendered: RenderedMessage | None = None
    error: RenderError | None = None


async def render_batch(
    template: MessageTemplate, contexts: Sequence[Mapping[str, Any]]
) -> list[RenderedMessage | RenderError]:
    """One result per context, in order: the message, or the RenderError that this recipient's
    message failed with (a template error, a limit, or not tried after too many limits in a row)."""
    results = await _pool.amap(_render, contexts, setup=_compiled, shared=template)
    return [_as_error(result) if isinstance(result, Failed) else result for result in results]


async def render(template: MessageTemplate, context: Mapping[str, Any]) -> RenderedMessage:
    (result,) = await render_batch(template, [context])
    if isinstance(result, RenderError):
        raise result
    return result


async def examine(parts: Mapping[str, str], context: Mapping[str, Any]) -> Examined:
    """Syntax and variables of each part, then, when the syntax is right, the message rendered for
    `context` without CSS inlining (a browser applies <style> itself)."""
    (result,) = await _pool.amap(_examine, [dict(context)], setup=_checked, shared=dict(parts))
    if isinstance(result, Failed):
        return Examined(check_template({}), error=_as_error(result))
    examined: Examined = result
    return examined


def _as_error(failed: Failed) -> RenderError:
    messages = {
        Kind.TIME: OVER_TIME,
        Kind.MEMORY: OVER_MEMORY,
        Kind.SKIPPED: SKIPPED,
        Kind.CRASH: f"The renderer stopped while rendering this template ({failed.message})",
    }
    if failed.kind in messages:
        return RenderError(messages[failed.kind], "html_content", limit=True)
    return RenderError(f"The template failed: {failed.error}: {failed.message}", "html_content")


# ---- in the renderer processes ---------------------------------------------------------------


@functools.lru_cache(maxsize=KEPT_COMPILED)
def _compiled(template: MessageTemplate) -> CompiledMessage | RenderError:
    try:
        return CompiledMessage.of(template)
    except ValidationFailed as exc:
        part, message = next(iter(exc.errors.items()))
        return RenderError(message, part)


def _render(compiled: CompiledMessage | RenderError, context: Mapping[str, Any]) -> RenderedMessage | RenderError:
    if isinstance(compiled, RenderError):
        return compiled
    try:
        return compiled.render(context)
    except RenderError as exc:
        return exc


def _checked(parts: dict[str, str]) -> tuple[TemplateCheck, CompiledMessage | None]:
    check = check_template(parts)
    if check.errors:
        return check, None
    template = MessageTemplate(
        parts.get("subject", ""), parts.get("html_content", ""), parts.get("text_content", ""), inline_css=False
    )
    return check, CompiledMessage.of(template)


def _examine(checked: tuple[TemplateCheck, CompiledMessage | None], context: dict[str, Any]) -> Examined:
    check, compiled = checked
    if compiled is None:
        return Examined(check)
    rendered = _render(compiled, context)
    if isinstance(rendered, RenderError):
        return Examined(check, error=rendered)
    return Examined(check, rendered)
