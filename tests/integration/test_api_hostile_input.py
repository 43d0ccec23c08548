"""Whatever a client sends, the API answers 4xx JSON naming the field, never a 500: NUL bytes, huge
and deeply nested values in every query parameter of every GET endpoint (read from the OpenAPI
schema, so a new endpoint is swept too), cursors of the wrong shape, and JSON bodies nested
5,000 deep for every endpoint that takes one."""

from __future__ import annotations

import base64
import json
import re

import httpx
import pytest

from tests.support.campaigns import audience, ready_campaign
from tests.support.imports import upload, uploaded_job_id

DEPTH = 5000
HOSTILE_VALUES = {
    "nul": "a\x00b",
    "only nul": "\x00",
    "huge": "x" * 5000,
    "nested": "[" * DEPTH + "]" * DEPTH,
}


def cursor_of(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


WRONG_CURSORS = {
    "garbage": "not a cursor!",
    "boolean key": cursor_of([True]),
    "object": cursor_of({"id": 1}),
    "empty list": cursor_of([]),
    "long list": cursor_of([1, 2, 3, 4, 5]),
    "text key": cursor_of(["x", "y"]),
    "huge number": cursor_of([10**30]),
    "nested": cursor_of([[[[1]]]]),
    "nul inside": cursor_of(["\x00", 1]),
}


@pytest.fixture
async def arranged(db, api, staff):
    """An API client, and a campaign and an import job with id 1, so routes with ids get that far."""
    client = await api("editor")
    email_list = await audience(db, 3)
    await ready_campaign(db, [email_list.id])
    await db.commit()
    uploaded_job_id(upload(await staff("editor"), b"email\nann@example.com\n"))
    return client


def get_routes(schema: dict) -> list[tuple[str, list[dict]]]:
    return [
        (re.sub(r"\{[^}]+\}", "1", path), item["get"].get("parameters", []))
        for path, item in schema["paths"].items()
        if "get" in item
    ]


def assert_names(response: httpx.Response, field: str) -> None:
    assert 400 <= response.status_code < 500, (response.request.url, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json"), response.text[:300]
    assert field in {e["field"] for e in response.json().get("errors", [])}, (response.request.url, response.text)


async def test_hostile_query_parameters_are_named_in_a_4xx(arranged, live_server):
    schema = httpx.get(live_server + "/api/docs/openapi.json").json()
    swept = 0
    for path, parameters in get_routes(schema):
        for parameter in (p for p in parameters if p["in"] == "query"):
            for value in HOSTILE_VALUES.values():
                response = arranged.get(path, params={parameter["name"]: value})
                if response.status_code == 200 and "\x00" not in value:
                    continue  # a long or bracketed text is a fine search, for instance
                assert_names(response, parameter["name"])
                swept += 1
    assert swept > 60


async def test_a_nul_in_a_parameter_no_route_declares_is_named_too(arranged):
    assert_names(arranged.get("/api/contacts", params={"whatever": "\x00"}), "whatever")
    assert_names(arranged.get("/api/contacts", params={"a\x00b": "1"}), "a\\x00b")


async def test_cursors_of_the_wrong_shape_are_named_in_a_4xx(arranged, live_server):
    schema = httpx.get(live_server + "/api/docs/openapi.json").json()
    paged = [path for path, parameters in get_routes(schema) if any(p["name"] == "cursor" for p in parameters)]
    assert {"/api/contacts", "/api/templates", "/api/campaigns", "/api/campaigns/1/emails", "/api/suppression"} <= set(
        paged
    )
    for path in paged:
        for cursor in WRONG_CURSORS.values():
            assert_names(arranged.get(path, params={"cursor": cursor}), "cursor")
    for path in ("/api/campaigns", "/api/suppression"):  # their keys start with a time
        assert_names(arranged.get(path, params={"cursor": cursor_of(["2026-13-45T99:99", 1])}), "cursor")


async def test_json_nested_5000_deep_is_a_4xx_for_every_body(arranged, live_server):
    schema = httpx.get(live_server + "/api/docs/openapi.json").json()
    nested = '{"name": ' + "[" * DEPTH + "]" * DEPTH + "}"
    bodies = [
        (method, re.sub(r"\{[^}]+\}", "1", path))
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]
    assert len(bodies) >= 8
    for method, path in bodies:
        response = arranged.request(method, path, content=nested, headers={"content-type": "application/json"})
        assert 400 <= response.status_code < 500, (method, path, response.status_code, response.text[:300])
        assert response.json()["errors"], (method, path, response.text[:300])
    upload = arranged.post(
        "/api/contacts/import",
        files={"file": ("c.csv", b"email\nann@example.com\n")},
        data={"mapping": "[" * DEPTH + "]" * DEPTH},
    )
    assert_names(upload, "mapping")


async def test_a_dynamic_list_without_rules_is_refused(arranged):
    for body in (
        {"name": "Everyone?", "list_type": "dynamic"},
        {"name": "Null", "list_type": "dynamic", "rules": None},
    ):
        response = arranged.post("/api/lists", json=body)
        assert response.status_code == 422, response.text
        assert "rules" in {e["field"] for e in response.json()["errors"]}
    created = arranged.post("/api/lists", json={"name": "Static", "list_type": "static"})
    assert created.status_code == 201


async def test_a_nul_in_a_path_is_a_4xx(arranged):
    for method, path in (("delete", "/api/suppression/a%00b@example.com?reason=x"), ("get", "/api/contacts/%00")):
        response = arranged.request(method, path)
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text[:300])
        assert response.headers["content-type"].startswith("application/json")


async def test_a_body_over_the_endpoints_limit_is_a_413_naming_the_body_or_the_file(arranged):
    too_long = arranged.post(
        "/api/contacts",
        content=b'{"email": "' + b"x" * 10_000_001 + b'"}',
        headers={"content-type": "application/json"},
    )
    too_big = arranged.post("/api/media", files={"file": ("big.png", b"\x89PNG" + b"0" * (11 << 20), "image/png")})

    assert too_long.status_code == 413 and too_big.status_code == 413
    assert_names(too_long, "body")
    assert_names(too_big, "file")
    assert "10,000,000 bytes" in too_long.json()["errors"][0]["message"]
