"""/api/docs states what the API checks, so a client generated from it can check its input first:
each field's limits (lengths, ranges, choices, formats), that input objects take no other fields,
ids bounded by the exact largest bigint, and the import's multipart body. The Schemathesis sweep
(test_api_fuzz.py) checks that input within these limits is accepted; this checks the statements."""

from __future__ import annotations

import re

from webapp.app import create_app
from webapp.conversions.schemas import AMOUNT_PATTERN
from webapp.core.schemas import NOT_BLANK, NUL_FREE, ONE_LINE, ONE_LINE_NOT_BLANK
from webapp.core.validation import MAX_ID, NOT_SPECIAL_USE


def _document() -> dict:
    return create_app().openapi_schema.to_schema()


def test_input_fields_state_their_rules_and_objects_take_no_other_fields():
    document = _document()
    components = document["components"]["schemas"]
    bodies = {
        media["schema"]["$ref"].rpartition("/")[2]
        for operations in document["paths"].values()
        for operation in operations.values()
        for kind, media in operation.get("requestBody", {}).get("content", {}).items()
        if kind == "application/json"
    }
    assert {"ContactCreate", "ListCreate", "TxIn"} <= bodies
    assert [name for name in bodies if components[name].get("additionalProperties") is not False] == []

    name = components["ListCreate"]["properties"]["name"]
    assert (name["minLength"], name["maxLength"], name["pattern"]) == (1, 200, ONE_LINE_NOT_BLANK)
    description = components["ListCreate"]["properties"]["description"]["oneOf"][0]
    assert (description["maxLength"], description["pattern"]) == (2000, NUL_FREE)
    assert components["ContactCreate"]["properties"]["email"]["format"] == "email"
    assert components["PointsIn"]["properties"]["points"] | {"title": ""} == {
        "type": "integer", "minimum": -1000, "maximum": 1000, "not": {"const": 0}, "title": ""
    }  # fmt: skip
    limits = components["PlanInput"]["properties"]["daily_limits"]
    assert (limits["minItems"], limits["maxItems"], limits["items"]["maximum"]) == (30, 30, 10_000_000)
    assert components["ScheduleIn"]["properties"]["scheduled_time"]["format"] == "date-time"


def test_ids_are_bounded_by_the_exact_largest_bigint():
    """Litestar writes bounds as floats, and 2**63 - 1 as a float is 2**63, past every id."""
    parameters = _document()["paths"]["/api/contacts/{contact_id}"]["get"]["parameters"]
    bounds = next(p["schema"] for p in parameters if p["name"] == "contact_id")
    assert (bounds["minimum"], bounds["maximum"]) == (1, MAX_ID)
    assert isinstance(bounds["maximum"], int)


def test_the_import_states_its_multipart_body():
    body = _document()["paths"]["/api/contacts/import"]["post"]["requestBody"]
    upload = body["content"]["multipart/form-data"]["schema"]
    assert body["required"] and upload["required"] == ["file"]
    assert upload["properties"]["file"] == {
        "type": "string",
        "format": "binary",
        "description": "The CSV or XLSX file.",
    }
    assert "suppress" in upload["properties"]["mode"]["enum"]


def test_the_stated_patterns_match_what_the_rules_take():
    assert [bool(re.search(NOT_BLANK, v)) for v in ("a", "  a b ", "", "   ", "\t\n", "a\x00")] == [
        True, True, False, False, False, False
    ]  # fmt: skip
    one_line = ("a", "  a b ", "", "   ", "\t\n", "a\x00", "a\nb", "a\r\nBcc: x")

    def matches(pattern: str, value: str) -> bool:  # as JSON Schema (ECMA) reads it: its $ ends the text
        return bool(re.search(pattern.removesuffix("$") + r"\Z", value))

    assert [matches(ONE_LINE_NOT_BLANK, v) for v in one_line] == [True, True] + [False] * 6
    assert [matches(ONE_LINE, v) for v in one_line] == [True, True, True, True, False, False, False, False]
    addresses = ("ada@example.com", "x@none.test", "x@Mail.LOCALHOST", "x@onion.example", "x@a.Invalid")
    assert [bool(re.search(NOT_SPECIAL_USE, a)) for a in addresses] == [True, False, False, True, False]
    amounts = ("49.90", " 1 ", "0.0001", "0", "0.00", "1.23456", "123456789012345", "-1", "")
    assert [bool(re.search(AMOUNT_PATTERN, a)) for a in amounts] == [True, True, True] + [False] * 6
