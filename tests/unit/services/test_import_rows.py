"""Mapping columns to fields and turning rows into contacts: guesses, checks, and the email fast
path, which must answer exactly as email-validator does."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.core.validation import normalize_email
from webapp.imports.schemas import mapping_problems
from webapp.imports.service.rows import (
    STAGE_COLUMNS,
    EmailNormalizer,
    RowConverter,
    RowRejected,
    guess_mapping,
    suggested_custom_name,
)

TRICKY = [
    "Ada@Example.COM",
    "  ada@example.com ",
    "INFO@Example.com",
    "Postmaster@x.io",
    "a.b+tag@sub.example.co.uk",
    "a..b@example.com",
    ".a@example.com",
    "a.@example.com",
    "a@example",
    "a@localhost",
    "a@x.test",
    "a@x.invalid",
    "a@-x.com",
    "a@x-.com",
    "a@x..com",
    "a@x.com.",
    "a@1.2.3.4",
    "a@[1.2.3.4]",
    "a@x.123",
    '"a b"@example.com',
    "a b@example.com",
    "a@b@example.com",
    "Ada <ada@example.com>",
    "zoë@example.com",
    "a@exämple.com",
    "a@xn--exmple-cua.com",
    "a@XN--EXMPLE-CUA.COM",
    "ａ@example.com",
    "a@example.ｃｏｍ",
    "!#$%&'*+/=?^_`{|}~-@x.org",
    "a@" + "x" * 64 + ".com",
    "a@" + ("x" * 60 + ".") * 5 + "com",
    "x" * 65 + "@example.com",
    "x" * 240 + "@example.com",
    "a@example.c",
    "a@example.co1",
    "a@_x.com",
    "a@x_y.com",
    "",
    "@",
    "a@",
    "@x.com",
    "a@x.onion",
    "a@x.local",
    "a@arpa",
    "a@example.com\n",
    "a\x00@example.com",
    "a@example.com x",
]


def outcome(fn, raw):
    try:
        return ("ok", fn(raw))
    except ValueError as exc:
        return ("error", str(exc))


@pytest.mark.parametrize("raw", TRICKY)
def test_fast_path_agrees_with_email_validator(raw):
    assert outcome(EmailNormalizer(), raw) == outcome(normalize_email, raw)


def test_a_mailbox_name_longer_than_64_characters_is_refused_as_servers_refuse_it():
    for check in (EmailNormalizer(), normalize_email):
        assert check("x" * 64 + "@example.com") == "x" * 64 + "@example.com"
        with pytest.raises(ValueError, match="too long before the @-sign"):
            check("x" * 65 + "@example.com")


ATOM = st.text(alphabet="abcXYZ019.-_+!~@ é", min_size=0, max_size=12)


@settings(max_examples=400, deadline=None)
@given(
    local=ATOM,
    domain=st.text(alphabet="abcXYZ01-._ é", min_size=0, max_size=20),
    tld=st.sampled_from(["com", "org", "c", "123", "test", "", "xn--p1ai", "ORG"]),
)
def test_fast_path_agrees_on_generated_addresses(local, domain, tld):
    raw = f"{local}@{domain}.{tld}" if tld else f"{local}@{domain}"
    normalizer = EmailNormalizer()
    assert outcome(normalizer, raw) == outcome(normalize_email, raw)
    assert outcome(normalizer, raw) == outcome(normalize_email, raw)  # again, from the domain cache


def test_guessing_the_mapping_from_headers():
    headers = [
        "E-mail Address",
        "First Name",
        "SURNAME",
        "Mobile",
        "Organisation",
        "Job title",
        "City",
        "Tags",
        "Idioma",
        "Plan",
        "email",
        "Favourite colour",
    ]
    assert guess_mapping(headers, ["plan", "score"]) == [
        "email",
        "first_name",
        "last_name",
        "phone",
        "company",
        "job_title",
        "location",
        "tags",
        "language",
        "custom:plan",
        "",
        "",  # a second email column is not guessed; unknown headers are ignored
    ]
    assert suggested_custom_name("Favourite colour (2024)") == "favourite_colour_2024"
    assert suggested_custom_name("2nd phone") == "field_2nd_phone"
    assert suggested_custom_name("Email") == "email_1"


def test_mapping_problems_are_named_per_column():
    errors = mapping_problems(["first_name", "first_name", "custom:1bad", "custom:email", "bogus"], "add")
    assert errors == {
        "mapping.1": "Column 1 goes to this field already.",
        "mapping.2": "Name the custom field with letters, digits and underscores, starting with a letter.",
        "mapping.3": "'email' is a standard contact field: choose it from the list instead.",
        "mapping.4": "Choose a contact field, a custom field or ignore.",
        "mapping": "Choose the column that holds the email addresses.",
    }
    assert mapping_problems(["email", "tags", "tags", "", ""], "add") == {}  # several tag columns are fine
    # unsubscribing and suppressing only use the address
    assert mapping_problems(["email", "bogus", "", "", ""], "suppress") == {}


def stage(converter, row):
    """The converted row by staging column, with None for the columns the mapping leaves out."""
    return dict.fromkeys(STAGE_COLUMNS) | dict(zip(converter.columns, row, strict=True))


def test_converting_a_row():
    converter = RowConverter(
        ["email", "first_name", "tags", "custom:plan", "custom:score", "language", "tags", ""], "upsert", 8
    )
    row = stage(
        converter,
        converter.convert(
            [" Ada@Example.COM ", " Ada ", "VIP; news,  Big  Fish", "pro", "", "ES_mx", "vip", "ignored"]
        ),
    )
    assert json.loads(row.pop("custom_fields")) == {"plan": "pro"}
    assert row == {
        "email": "Ada@example.com",
        "first_name": "Ada",
        "last_name": None,
        "phone": None,
        "company": None,
        "job_title": None,
        "location": None,
        "tags": "vip,news,big fish",
        "language": "es-mx",
    }
    assert converter.mapped == {"email", "first_name", "tags", "language", "custom_fields"}
    short = stage(converter, converter.convert(["b@example.com"]))  # missing trailing cells are empty
    assert short["first_name"] == "" and short["tags"] == "" and short["custom_fields"] == "{}"
    quoted = stage(converter, converter.convert(["c@example.com", "", "", 'say "hi"\\ ünï', "", "", "", ""]))
    assert json.loads(quoted["custom_fields"]) == {"plan": 'say "hi"\\ ünï'}


def test_export_formula_guard_is_undone():
    converter = RowConverter(["email", "phone", "company"], "add", 3)
    row = stage(converter, converter.convert(["a@example.com", "'+1 555 0100", "'Rock 'n' roll"]))
    assert row["phone"] == "+1 555 0100" and row["company"] == "'Rock 'n' roll"
    guarded = stage(converter, converter.convert(["'=1+2@example.com", "", ""]))  # the address as exported
    assert guarded["email"] == "=1+2@example.com"
    assert stage(converter, converter.convert(["o'neil@example.com", "", ""]))["email"] == "o'neil@example.com"


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        (["", "x", ""], "The email address is empty."),
        (["not-an-address", "x", ""], "An email address must have an @-sign."),
        (["a@example.com", "x" * 201, ""], "First name is longer than 200 characters."),
        (["a@example.com", "x", "a" * 51], "longer than 50 characters"),
        (["a@example.com", "x", "", "surprise"], "This row has 4 values but the file has 3 columns"),
    ],
)
def test_rejected_rows_say_why(cells, reason):
    converter = RowConverter(["email", "first_name", "tags"], "add", 3)
    with pytest.raises(RowRejected, match=reason.replace("(", r"\(")):
        converter.convert(cells)


def test_trailing_empty_cells_are_not_extra_values():
    converter = RowConverter(["email", "first_name"], "add", 2)
    assert stage(converter, converter.convert(["a@example.com", "Ann", "", " "]))["first_name"] == "Ann"


def test_suppress_mode_reads_only_the_address():
    converter = RowConverter(["first_name", "email"], "suppress", 2)
    assert stage(converter, converter.convert(["x" * 500, "a@example.com"]))["first_name"] is None
    assert converter.mapped == {"email"}


def test_bad_language_code_is_rejected():
    converter = RowConverter(["email", "language"], "add", 2)
    with pytest.raises(RowRejected, match="not a language code"):
        converter.convert(["a@example.com", "English please"])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcABC ,;\t\u00a0\x00-é", max_size=40))
def test_tags_are_normalised_as_everywhere_else(raw):
    import re

    from webapp.core.validation import normalize_tags

    converter = RowConverter(["email", "tags"], "add", 2)
    assert stage(converter, converter.convert(["a@example.com", raw]))["tags"] == ",".join(
        normalize_tags(re.split(r"[,;]", raw))
    )


def test_more_than_a_hundred_tags_are_refused_in_a_row_as_in_a_form():
    from webapp.core.validation import normalize_tags

    converter = RowConverter(["email", "tags"], "add", 2)
    hundred = ",".join(f"t{i}" for i in range(100))
    assert len(stage(converter, converter.convert(["a@example.com", hundred + ",T0"]))["tags"].split(",")) == 100
    assert len(normalize_tags([f"t{i}" for i in range(100)] + ["T0"])) == 100  # repeats are merged first
    with pytest.raises(RowRejected, match="At most 100 tags"):
        converter.convert(["a@example.com", hundred + ",one more"])
    with pytest.raises(ValueError, match="At most 100 tags"):
        normalize_tags([f"t{i}" for i in range(101)])
