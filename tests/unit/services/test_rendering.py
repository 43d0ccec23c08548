"""Template rendering: personalisation, escaping, limits and the sandbox."""

from __future__ import annotations

from types import SimpleNamespace

import jinja2.nodes
import pytest

from webapp.core.errors import ValidationFailed
from webapp.core.schemas import load
from webapp.templates.schemas import TemplateCreate
from webapp.templates.service.rendering import CompiledMessage, RenderError, check_template, contact_context


def contact(**fields):
    base = {
        "email": "ada@example.com",
        "first_name": "",
        "last_name": "",
        "phone": "",
        "company": "",
        "job_title": "",
        "location": "",
        "custom_fields": {},
    }
    return SimpleNamespace(**{**base, **fields})


def test_personalises_standard_and_custom_fields():
    message = CompiledMessage(
        "Hello {{first_name}}", "<p>{{ first_name }} {{ last_name }} of {{company}}, plan {{ plan }}</p>"
    )
    out = message.render(
        contact_context(
            contact(first_name="Ada", last_name="Lovelace", company="Engines", custom_fields={"plan": "pro"})
        )
    )
    assert out.subject == "Hello Ada"
    assert "<p>Ada Lovelace of Engines, plan pro</p>" in out.html


def test_default_and_if_apply_to_empty_fields():
    message = CompiledMessage(
        "Hi {{ first_name | default('there') }}", "{% if first_name %}Dear {{first_name}}{% else %}Hello!{% endif %}"
    )
    empty = message.render(contact_context(contact()))
    assert empty.subject == "Hi there"
    assert "Hello!" in empty.html
    assert "Dear Bo" in message.render(contact_context(contact(first_name="Bo"))).html


def test_html_is_escaped_but_subject_and_text_are_not():
    message = CompiledMessage("{{ company }}", "<b>{{ company }}</b>", "{{ company }}")
    out = message.render(contact_context(contact(company="<script>&Co")))
    assert "&lt;script&gt;&amp;Co" in out.html
    assert out.subject == "<script>&Co"
    assert out.text == "<script>&Co"


def test_custom_field_cannot_override_standard_field():
    out = CompiledMessage("{{ email }}", "x").render(
        contact_context(contact(custom_fields={"email": "evil@example.com"}))
    )
    assert out.subject == "ada@example.com"


def test_links_are_available():
    out = CompiledMessage("s", '<a href="{{ unsubscribe_url }}">u</a>').render(
        contact_context(contact(), {"unsubscribe_url": "https://m.example/u/tok"})
    )
    assert 'href="https://m.example/u/tok"' in out.html


def test_css_is_inlined_and_text_generated_from_html():
    out = CompiledMessage("s", '<style>p { color: red }</style><p>Hi <a href="https://x.example">there</a></p>').render(
        {}
    )
    assert '<p style="color: red;">' in out.html
    assert "Hi" in out.text and "https://x.example" in out.text


def test_syntax_error_names_part_and_line():
    with pytest.raises(ValidationFailed) as exc:
        CompiledMessage("ok", "<p>one</p>\n<p>two</p>\n{% if first_name %}never closed")
    assert exc.value.errors["html_content"].startswith("Line 3:")


@pytest.mark.parametrize(
    ("html", "message"),
    [
        ("<p>Hi</p>\n<p>{{ 100 / (plan | int) }}</p>", "Line 2: The template failed: division by zero"),
        ("<p>Hi</p>\n\n<p>{{ nothing.x }}</p>", "Line 3: The template failed: 'nothing' is undefined"),
        ("<p>\n{{ 'x' * 10 ** 7 }}</p>", "Line 2: A value built in the template is too large."),
        ("<p>\n\n\n{{ ().__class__.__bases__ }}</p>", "Line 4: The template tried something not allowed"),
        # Errors of Python's own that Jinja does not name: still the line, and words rather than KeyError: 'a'
        ("<p>\n{{ '%(a)s' % {} }}</p>", "Line 2: The template failed: nothing is named 'a' where it looks for it"),
        ("\n\n{{ '{}'.format() }}", "Line 3: The template failed: it asks for a position past the end"),
        ("<p>{{ 'x' | truncate(-1) }}</p>", "Line 1: The template failed: expected length >= 3, got -1"),
        ("{% macro m() %}\n{{ m() }}{% endmacro %}{{ m() }}", "Line 2: The template nests or calls itself too deeply"),
    ],
)
def test_an_error_while_rendering_names_its_line(html, message):
    with pytest.raises(RenderError) as failed:
        CompiledMessage("Subject", html).render({"plan": "0"})
    assert failed.value.message.startswith(message) and failed.value.field == "html_content"


def test_the_template_schema_names_syntax_errors_with_every_other_problem():
    with pytest.raises(ValidationFailed) as exc:
        load(TemplateCreate, {"name": " ", "subject": "{% if %}", "html_content": "<p>\n{{ x }", "colour": "red"})
    errors = exc.value.errors
    assert (errors["name"], errors["colour"]) == ("Give the template a name.", "Unknown field.")
    assert errors["subject"].startswith("Line 1: ") and errors["html_content"].startswith("Line 2: unexpected '}'")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("<p>\nHi {{ first_name | titlecase }}</p>", "Line 2: there is no filter named 'titlecase'."),
        ("{% if first_name is shouting %}x{% endif %}", "Line 1: there is no test named 'shouting'."),
        ("<p>x</p>\n\n{% include 'footer.html' %}", "Line 3: a template cannot include, import or extend another"),
        ("{% extends 'base.html' %}", "Line 1: a template cannot include, import or extend another"),
        ("{% from 'macros' import button %}", "Line 1: a template cannot include, import or extend another"),
        ("{% if 1 %}" * 200 + "x" + "{% endif %}" * 200, "Line 1: blocks nest more than 15 deep"),
        ("{% for a in b %}" * 21 + "x" + "{% endfor %}" * 21, "Line 1: blocks nest more than 15 deep"),
    ],
)
def test_what_parses_but_could_never_be_sent_is_refused_with_its_line(source, message):
    """Each of these parses, and used to fail only when compiled: for every recipient at send time."""
    with pytest.raises(ValidationFailed) as exc:
        load(TemplateCreate, {"name": "n", "subject": "s", "html_content": source})
    assert exc.value.errors["html_content"].startswith(message)
    assert check_template({"html_content": source}).errors["html_content"].startswith(message)


def test_filters_tests_and_blocks_in_use_are_accepted():
    source = (
        "{% filter upper %}{{ first_name | default('there') | title }}{% endfilter %}"
        "{% if plan is defined %}{% for a in [1] %}{{ loop.index }}{% endfor %}{% endif %}"
        + "{% if 1 %}" * 15
        + "deep"
        + "{% endif %}" * 15
    )
    assert check_template({"html_content": source}).errors == {}
    assert CompiledMessage("s", source).render({"first_name": "ann"}).html == "ANNdeep"


def test_check_reports_unknown_variables_as_warnings():
    check = check_template(
        {"subject": "{{ first_name }} {{ favourite_colour }}", "html_content": "{{ plan }}"},
        known_custom_fields=["plan"],
    )
    assert check.errors == {}
    assert check.unknown_variables == ["favourite_colour"]
    assert check.variables == ["favourite_colour", "first_name", "plan"]


def test_checking_a_template_computes_none_of_its_constants(monkeypatch):
    """Jinja's compiler folds constant expressions by computing them; the check runs in the web
    process, where `"x" * 10**9` or `9 ** 9 ** 9` would take its memory or never end."""
    computed = []

    def refuse(left, right):
        computed.append((left, right))
        raise ArithmeticError("computed while checking")

    monkeypatch.setattr(jinja2.nodes, "_binop_to_func", dict.fromkeys(jinja2.nodes._binop_to_func, refuse))
    check = check_template({"subject": "{{ 'x' * 1000000000 }}", "html_content": "{{ 9 ** 9 ** 9 }}{{ 1 + 2 }}"})
    assert check.errors == {} and computed == []


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os.system('id') }}",
        "{% set x = [].append(1) %}",
    ],
)
def test_python_internals_are_out_of_reach(source):
    with pytest.raises(RenderError):
        CompiledMessage("s", source).render({})


def test_private_attribute_access_renders_nothing():
    assert (
        CompiledMessage("s", "[{{ ''.__class__ }}][{{ self._TemplateReference__context }}]").render({}).html == "[][]"
    )


def test_huge_output_is_refused():
    with pytest.raises(RenderError, match=r"too large|larger than"):
        CompiledMessage("s", "{{ 'x' * 100000000 }}").render({})
    with pytest.raises(RenderError, match="larger than"):
        CompiledMessage("s", "{% for i in range(100000) %}{{ 'y' * 50 }}{% endfor %}").render({})


def test_text_part_is_derived_once_from_the_html_template_and_personalised():
    message = CompiledMessage(
        "s",
        "<p>Hi {{ first_name }}</p>{% if plan %}<p>Plan: {{ plan }}</p>{% endif %}"
        '<a href="{{ unsubscribe_url }}">Unsubscribe</a><img src="{{ open_pixel_url }}">',
    )
    assert message.text is not None  # a template, not a per-message conversion
    out = message.render(
        {
            "first_name": "Ada",
            "plan": "pro",
            "unsubscribe_url": "https://m.example/u/1",
            "open_pixel_url": "https://m.example/o/1.gif",
        }
    )
    assert "Hi Ada" in out.text and "Plan: pro" in out.text
    assert "[Unsubscribe](https://m.example/u/1)" in out.text
    assert "o/1.gif" not in out.text
    assert "Plan:" not in message.render({"first_name": "Bo"}).text


def test_statement_inside_an_attribute_falls_back_to_converting_each_message():
    message = CompiledMessage("s", '<p class="{% if vip %}gold{% endif %}">Hello {{ first_name }}</p>')
    assert message.text is None
    assert "Hello Ada" in message.render({"first_name": "Ada", "vip": True}).text


def test_remote_stylesheets_are_never_fetched():
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(1.5)
    fetched = []
    threading.Thread(target=lambda: fetched.append(_accept(server)), daemon=True).start()
    port = server.getsockname()[1]
    html = f'<link rel="stylesheet" href="http://127.0.0.1:{port}/x.css"><style>p {{ color: red }}</style><p>Hi</p>'
    out = CompiledMessage("s", html).render({})
    assert '<p style="color: red;">Hi</p>' in out.html
    import time

    time.sleep(1.6)
    assert fetched == [False]
    server.close()


def _accept(server) -> bool:
    try:
        server.accept()
        return True
    except OSError:
        return False
