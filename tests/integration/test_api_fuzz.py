"""No input gets a server error from the JSON API, and every answer is what /api/docs says.
Schemathesis (`st run`) reads the app's own OpenAPI document and drives every operation: its
coverage phase sends each parameter and body field its boundary values and wrong ones (wrong types,
missing required fields, out-of-range numbers, odd strings), and a seeded fuzzing phase adds more.
No answer may be a server error; each must have a documented status, content type and shape
(a client generated from the document can read it); a request without the key gets a 401, a
method an operation lacks a 405 naming the methods it has, and OPTIONS all of them. Ids in paths
point at a seeded site's objects, so the operations get past their 404s; deletions run after the
rest, on their own, and then 20 s of sequences of calls along the links Schemathesis infers
between operations (a created object read, changed, deleted, read again: gone).

Input the document allows is accepted (no 4xx) unless an operation's rules tie fields together or
depend on stored data, which no JSON Schema can state (NOT_STATABLE, each with the reason)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import create_user
from tests.support.showcase import seed
from webapp.app import create_app
from webapp.staff.service import api_keys

pytestmark = pytest.mark.long  # minutes: started first

ROOT = Path(__file__).resolve().parents[2]
ST = Path(sys.executable).with_name("st")
SWEEP = ("--phases", "coverage,fuzzing", "--max-examples", "5")  # the coverage phase is whole; fuzzing samples
RUNS = (
    (*SWEEP, "--exclude-method", "DELETE", "--exclude-path-regex", "/erase$"),
    (*SWEEP, "--include-method", "DELETE", "--include-path-regex", "/erase$"),  # deletions last
    # Sequences along the links Schemathesis infers (create, then read, change, delete, read again).
    ("--phases", "stateful", "--max-time", "20"),
)


def _ids(shown: dict[str, int | str]) -> dict[str, list[int | str]]:
    """Path parameter -> the seeded objects it may name."""
    pick = {
        "ab_test_id": ["ab_test"],
        "automation_id": ["automation"],
        "campaign_id": ["sent", "draft", "ready"],
        "contact_id": ["contact", "opted_out"],
        "job_id": ["import"],
        "list_id": ["list", "public_list", "segment"],
        "placement_test_id": ["placement_test"],
        "plan_id": ["warmup_plan"],
        "rule_id": ["scoring_rule"],
        "template_id": ["template", "tx_template"],
    }
    return {name: [shown[key] for key in keys] for name, keys in pick.items()}


# Operations whose valid input the document cannot describe: Schemathesis' check that input the
# document allows is accepted is off for these (every other check stays on).
NOT_STATABLE = {
    "POST /api/ab-tests": "each variant must change something, render, and only one may be the control",
    "POST /api/ab-tests/{ab_test_id}/winner": "the variant must be one of this test's",
    "POST /api/automations": "a trigger's and each step's settings depend on their kind; what they name must exist",
    "PATCH /api/automations/{automation_id}": "a trigger's and each step's settings depend on their kind; ditto",
    "POST /api/automations/{automation_id}/enrolments": "a contact is named by contact_id or by email, not both",
    "POST /api/campaigns/{campaign_id}/send": "the campaign must have a subject, a sender, content and lists",
    "POST /api/campaigns/{campaign_id}/schedule": "the time must be ahead of now",
    "POST /api/contacts/{contact_id}/repermission": "the list must be one the contact left",
    "PUT /api/contacts/{contact_id}": "an opted-out contact cannot be made active or pending",
    "POST /api/campaigns": "the lists must exist; content in Markdown comes without html_content",
    "PUT /api/campaigns/{campaign_id}": "the lists must exist; content in Markdown comes without html_content",
    "POST /api/templates": "content in Markdown comes without html_content (made from it)",
    "PUT /api/templates/{template_id}": "content in Markdown comes without html_content (made from it)",
    "POST /api/contacts/import": "the file must be a CSV or XLSX file with an email column",
    "POST /api/media": "the file must be a PNG, JPEG, GIF or WebP image",
    "POST /api/conversions": "a contact is named by contact_id or by email; occurred_at is at most a day ahead",
    "POST /api/events": "a contact is named by contact_id or by email; occurred_at is at most a day ahead",
    "POST /api/automations/{automation_id}/publish": "it must have steps; email steps need the sender settings",
    "POST /api/scoring/rules": "only a click rule has a link, only a custom-event rule an event name",
    "PATCH /api/scoring/rules/{rule_id}": "only a click rule has a link, only a custom-event rule an event name",
    "POST /api/lists": "rules and a parent list belong to dynamic and segment lists only",
    "PATCH /api/lists/{list_id}": "rules and a parent list belong to dynamic and segment lists only",
    "POST /api/tx": "the address must be one that may be sent mail",
    "POST /api/warmup-plans": "the scope decides which of the server, provider and domain is required",
    "PUT /api/warmup-plans/{plan_id}": "the scope decides which of the server, provider and domain is required",
}


def _config(document: dict) -> str:
    """schemathesis.toml: every check but the one that wants invalid input refused (the API ignores
    unknown query parameters), and the acceptance check off where input cannot be stated: for
    NOT_STATABLE, and for lists paged by a cursor, which only the API itself makes."""
    paged = [
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if any(parameter["name"] == "cursor" for parameter in operation.get("parameters", []))
    ]
    assert "GET /api/contacts" in paged
    lines = ["[checks]", "negative_data_rejection.enabled = false"]
    for name in sorted({*NOT_STATABLE, *paged}):
        lines += [
            "[[operations]]",
            f"include-name = {json.dumps(name)}",
            "checks.positive_data_acceptance.enabled = false",
        ]
    return "\n".join(lines) + "\n"


def schemathesis_run(
    workdir: Path, base_url: str, key: str, ids: dict[str, list[int | str]], *options: str
) -> subprocess.CompletedProcess:
    command = [
        str(ST), "run", f"{base_url}/api/docs/openapi.json",
        "--header", f"Authorization: Bearer {key}",
        "--seed", "1", "--generation-database", "none", "--workers", "1", "--no-color",
        *options,
    ]  # fmt: skip
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.support.api_fuzz_hooks",
        "MAILROOM_FUZZ_IDS": json.dumps(ids),
        "PYTHONPATH": str(ROOT),
    }
    # In a directory of its own: st keeps a cache of the failures it found there, to replay them.
    return subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=600)


async def test_no_api_input_gets_a_server_error(db, live_server, tmp_path):
    shown = (await seed(db, live_server)).ids
    owner = await create_user(db, "admin", email="fuzz-owner@example.com")
    _, key = await api_keys.create_key(db, {"name": "fuzz", "role": "editor"}, owner.id)
    await db.commit()
    ids = _ids(shown)
    assert httpx.get(
        f"{live_server}/api/campaigns/{shown['sent']}", headers={"Authorization": f"Bearer {key}"}
    ).is_success

    document = httpx.get(f"{live_server}/api/docs/openapi.json").json()
    (tmp_path / "schemathesis.toml").write_text(_config(document))
    for options in RUNS:
        run = await asyncio.to_thread(schemathesis_run, tmp_path, live_server, key, ids, *options)
        assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
        assert " passed" in run.stdout and not re.search(r"(?<![0-9])0 generated", run.stdout)  # 5230 is fine


def test_no_request_body_field_is_named_like_a_dependency():
    """Litestar reports an error in a body field that shares a dependency's name as a server error
    (a campaign's `settings` did while the app also provided a `settings` dependency)."""
    app = create_app()
    schema = app.openapi_schema.to_schema()
    components = schema["components"]["schemas"]
    fields: set[str] = set()
    for operations in schema["paths"].values():
        for operation in operations.values():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                body = media["schema"]
                body = components[body["$ref"].rpartition("/")[2]] if "$ref" in body else body
                fields |= set(body.get("properties", {}))
    dependencies = {
        name
        for route in app.routes
        for handler, _ in getattr(route, "route_handler_map", {}).values()
        for name in handler.dependency_name_set
    }
    assert {"settings", "list_ids"} <= fields and "db" in dependencies
    assert not fields & dependencies
