"""Markdown made into an email's HTML: Jinja personalisation comes through as written (quotes, link
addresses, tags on lines of their own), raw HTML passes, and the result is a whole document."""

from __future__ import annotations

from jinja2 import Environment

from webapp.templates.service.markdown import at_source_line, convert, without_made_html


def body(source: str) -> str:
    return convert(source).split('<div class="message">\n', 1)[1].split("</div>\n</body>", 1)[0]


def test_markdown_becomes_a_whole_email_document():
    document = convert("# News\n\nHello **there**, *all* of you.\n")
    assert document.startswith("<!DOCTYPE html>") and '<meta name="viewport"' in document
    assert body("# News\n\nHello **there**, *all* of you.\n") == (
        "<h1>News</h1>\n<p>Hello <strong>there</strong>, <em>all</em> of you.</p>\n"
    )


def test_jinja_comes_through_untouched_where_markdown_would_change_it():
    html = body('Hi {{ first_name | default("there") }}: [read it online]({{ web_version_url }}) & more.\n')
    assert html == (
        '<p>Hi {{ first_name | default("there") }}: '
        '<a href="{{ web_version_url }}">read it online</a> &amp; more.</p>\n'
    )
    rendered = Environment().from_string(html).render(first_name="Ada", web_version_url="https://x.example/w")
    assert rendered == '<p>Hi Ada: <a href="https://x.example/w">read it online</a> &amp; more.</p>'


def test_a_tag_on_a_line_of_its_own_leaves_no_empty_paragraph():
    html = body("{% if company %}\n\nHello **{{ company }}**.\n\n{% endif %}\n\n{{ first_name }}\n")
    assert html == (
        "{% if company %}\n<p>Hello <strong>{{ company }}</strong>.</p>\n{% endif %}\n<p>{{ first_name }}</p>\n"
    )
    assert Environment().from_string(html).render(company="", first_name="Ada").strip() == "<p>Ada</p>"


def test_tags_on_the_lines_around_a_paragraphs_text_go_outside_it():
    html = body("{% if company %}\nHello **{{ company }}**.\n{% endif %}\n\nBye.\n")
    assert html == "{% if company %}\n<p>Hello <strong>{{ company }}</strong>.</p>\n{% endif %}\n<p>Bye.</p>\n"
    assert Environment().from_string(html).render(company="").strip() == "<p>Bye.</p>"
    split = body("{% if a %}\nA\n{% else %}\nB\n{% endif %}\n")  # a branch inside: left as written
    assert split == "<p>{% if a %}\nA\n{% else %}\nB\n{% endif %}</p>\n"
    opened = body("{% for x in items %}\n- {{ x }}\n{% endfor %}\n")  # not a paragraph: untouched
    assert "<li>{{ x }}" in opened


def test_raw_html_tables_and_strikethrough_pass():
    html = body('<img src="/u/media/a.png" alt="Logo">\n\n| Plan | Price |\n|---|---|\n| Pro | 9 |\n\n~~old~~\n')
    assert '<img src="/u/media/a.png" alt="Logo">' in html
    assert "<th>Plan</th>" in html and "<td>9</td>" in html and "<s>old</s>" in html


def test_text_that_looks_like_a_placeholder_is_left_alone():
    assert body("MRJINJA00000000X0X and {{ x }}\n") == "<p>MRJINJA00000000X0X and {{ x }}</p>\n"


def test_an_editors_html_box_is_not_saved_for_markdown_content():
    typed = {"content_format": "markdown", "markdown_content": "# Hi", "html_content": "<p>old</p>"}
    assert without_made_html(typed) == {"content_format": "markdown", "markdown_content": "# Hi"}
    assert without_made_html(typed | {"content_format": "html"}) == typed | {"content_format": "html"}


def test_a_render_error_on_the_html_is_named_on_the_markdown_line_it_came_from():
    source = "# T\n\npara {{ first_name }}\n\n- a\n- b\n\n{% if x %}\n{{ 1 / 0 }}\n{% endif %}\n\n{{ first_name }}"
    made = convert(source)
    html_line = made.splitlines().index("<p>{{ 1 / 0 }}</p>") + 1
    assert html_line > 20  # the layout's lines come first
    failed = f"Line {html_line}: The template failed: division by zero"
    assert at_source_line(failed, source, made) == "Line 9: The template failed: division by zero"
    twice = made.splitlines().index("<p>{{ first_name }}</p>") + 1  # the second of two identical tags
    assert at_source_line(f"Line {twice}: x", source, made) == "Line 12: x"
    assert at_source_line("Line 2: x", source, made) == "Line 2: x"  # no tag on it: it cannot be told
    assert at_source_line("The template failed", source, made) == "The template failed"
