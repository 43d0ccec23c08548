"""The renderer processes (what previews, saves, test sends and the send pipeline render with): a
template that loops for ever, takes memory or recurses without end fails with a message naming the
limit, only the recipients it fails for fail, and the calling process carries on unharmed."""

from __future__ import annotations

import asyncio
import resource

import pytest

from tests.support.hostile import HUGE_LIST, HUGE_PADDING, LOOPS_FOR_EVER, RECURSES_FOR_VIPS, TWO_LOOPS
from webapp.templates.service import renderer
from webapp.templates.service.rendering import MessageTemplate, RenderedMessage, RenderError


def peak_rss_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


async def test_a_batch_gives_each_recipient_their_message():
    source = MessageTemplate("Hi {{ first_name }}", "<style>p { color: red }</style><p>{{ first_name }}</p>")
    results = await renderer.render_batch(source, [{"first_name": "Ada"}, {"first_name": "Bo"}])
    assert [r.subject for r in results] == ["Hi Ada", "Hi Bo"]
    assert all(isinstance(r, RenderedMessage) for r in results)
    assert '<p style="color: red;">Bo</p>' in results[1].html


async def test_a_template_failing_for_one_recipient_fails_only_that_recipient():
    people = [{"first_name": "Ann"}, {"first_name": "Vic", "vip": "yes"}, {"first_name": "Cy"}]
    first, vip, last = await renderer.render_batch(MessageTemplate("s", RECURSES_FOR_VIPS), people)
    assert "<p>Hi Ann</p>" in first.html and "<p>Hi Cy</p>" in last.html
    assert isinstance(vip, RenderError) and "calls itself" in vip.message and vip.limit


@pytest.mark.parametrize(
    ("html", "named"),
    [
        (LOOPS_FOR_EVER, "time limit"),
        (TWO_LOOPS, "time limit"),
        (HUGE_PADDING, "memory limit"),
        (HUGE_LIST, "too large"),
    ],
)
async def test_hostile_templates_fail_naming_the_limit_and_cost_the_caller_nothing(html, named):
    before = peak_rss_mb()
    with pytest.raises(RenderError, match=named) as failed:
        await renderer.render(MessageTemplate("s", html), {})
    assert failed.value.limit
    assert peak_rss_mb() - before < 100  # the memory went (or would have gone) to a renderer process
    assert (await renderer.render(MessageTemplate("s", "<p>still here</p>"), {})).html == "<p>still here</p>"


async def test_others_are_served_while_a_template_runs_into_its_time_limit():
    hostile = asyncio.create_task(renderer.render(MessageTemplate("s", LOOPS_FOR_EVER), {}))
    await asyncio.sleep(0)
    fine = await renderer.render(MessageTemplate("Hello", "<p>fine</p>"), {})
    assert fine.subject == "Hello" and not hostile.done()
    with pytest.raises(RenderError, match="time limit"):
        await hostile


async def test_a_batch_stops_trying_after_a_few_recipients_in_a_row_go_over_a_limit():
    results = await renderer.render_batch(MessageTemplate("s", LOOPS_FOR_EVER), [{}] * 40)
    assert all(isinstance(r, RenderError) and r.limit for r in results)
    assert ["time limit" in r.message for r in results[:3]] == [True] * 3
    assert all(r.message.startswith("Not rendered") for r in results[3:])


async def test_a_syntax_error_is_each_recipients_error_naming_the_line():
    results = await renderer.render_batch(MessageTemplate("s", "<p>\n{% if x %}never closed"), [{}, {}])
    assert [(r.field, r.message.startswith("Line 2:")) for r in results] == [("html_content", True)] * 2


async def test_examine_checks_and_renders_what_the_editor_shows():
    examined = await renderer.examine(
        {"subject": "Hi {{ first_name }}", "html_content": "<p>{{ plan }}</p>", "text_content": ""},
        {"first_name": "Ada", "plan": "pro"},
    )
    assert examined.check.unknown_variables == ["plan"] and examined.error is None
    assert examined.rendered.subject == "Hi Ada" and "<p>pro</p>" in examined.rendered.html
    broken = await renderer.examine({"subject": "s", "html_content": "{{ x }", "text_content": ""}, {})
    assert broken.check.errors["html_content"].startswith("Line 1:") and broken.rendered is None
    slow = await renderer.examine({"subject": "s", "html_content": TWO_LOOPS, "text_content": ""}, {})
    assert "time limit" in slow.error.message and slow.rendered is None
