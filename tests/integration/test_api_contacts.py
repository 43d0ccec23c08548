"""JSON API /api/contacts against the real server: shapes, filters, paging, errors and auth."""

from __future__ import annotations

import base64
import json
from datetime import datetime

import pytest

from tests.conftest import create_user, sign_in

SEED_CONTACT = {
    "email": "john.doe@example.com",
    "first_name": "John",
    "last_name": "Doe",
    "company": "Tech Corp",
    "job_title": "Software Engineer",
    "location": "New York, USA",
    "tags": ["developer", "newsletter"],
    "custom_fields": {"source": "website", "interests": "AI, ML"},
}
CONTACT_KEYS = {
    "id",
    "email",
    "first_name",
    "last_name",
    "phone",
    "company",
    "job_title",
    "location",
    "tags",
    "custom_fields",
    "is_active",
    "status",
    "language",
    "date_added",
    "last_updated",
    "email_stats",
}


def fields(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json().get("errors", [])}


async def test_create_get_update_delete(api):
    client = await api("editor")
    created = client.post("/api/contacts", json=SEED_CONTACT)
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == CONTACT_KEYS
    assert isinstance(body["id"], int)
    assert {k: body[k] for k in SEED_CONTACT} == SEED_CONTACT
    assert body["phone"] == "" and body["is_active"] is True and body["status"] == "active"
    datetime.fromisoformat(body["date_added"])
    datetime.fromisoformat(body["last_updated"])

    url = f"/api/contacts/{body['id']}"
    assert client.get(url).json() == body

    updated = client.put(
        url, json={"first_name": "Johnathan", "company": "New Company", "tags": ["developer", "management"]}
    )
    assert updated.status_code == 200, updated.text
    after = updated.json()
    assert after["first_name"] == "Johnathan" and after["company"] == "New Company"
    assert after["tags"] == ["developer", "management"]
    assert after["last_name"] == "Doe" and after["custom_fields"] == SEED_CONTACT["custom_fields"]  # untouched
    assert after["last_updated"] > body["last_updated"]
    assert client.get(url).json() == after

    comma = client.put(url, json={"tags": ["a,b", "z;q"]})  # a form would split it at its next save
    assert comma.status_code == 422 and comma.json()["errors"][0]["field"] == "tags"
    spoken = client.put(url, json={"language": "ES_mx"})  # as people write it, kept as stored
    assert spoken.status_code == 200 and spoken.json()["language"] == "es-mx"
    unknown = client.put(url, json={"language": "Spanish"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "language"
    assert client.put(url, json={"language": None}).json()["language"] == ""
    many = client.put(url, json={"tags": [f"t{i}" for i in range(5000)]})
    assert many.status_code == 422 and many.json()["errors"] == [
        {"field": "tags", "message": "At most 100 tags: use a custom field for data that needs more."}
    ]
    assert client.get(url).json()["tags"] == ["developer", "management"]

    cleared = client.put(url, json={"company": None, "custom_fields": {}})
    assert cleared.json()["company"] == "" and cleared.json()["custom_fields"] == {}

    deleted = client.delete(url)
    assert deleted.status_code == 204 and deleted.content == b""
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 404


async def test_an_opt_out_set_through_the_api_is_recorded_as_the_keys(api):
    client = await api("editor")
    created = client.post("/api/contacts", json={"email": "gone@example.com", "status": "bounced"})
    contact = client.post("/api/contacts", json={"email": "left@example.com"}).json()
    assert client.put(f"/api/contacts/{contact['id']}", json={"status": "unsubscribed"}).status_code == 200
    assert created.status_code == 201
    entries = {e["email"]: e for e in client.get("/api/suppression").json()["items"]}
    for email in ("gone@example.com", "left@example.com"):
        assert entries[email]["created_by"] == "api:test editor", entries[email]
        assert entries[email]["source"] == "contact status set through the API"


async def test_duplicate_email_is_409_naming_the_existing_contact(api):
    client = await api("editor")
    first = client.post("/api/contacts", json={"email": "Ann@Example.com"}).json()
    duplicate = client.post("/api/contacts", json={"email": "ann@example.COM"})
    assert duplicate.status_code == 409
    assert duplicate.json()["existing_id"] == first["id"]
    assert f"#{first['id']}" in fields(duplicate)["email"]

    other = client.post("/api/contacts", json={"email": "bob@example.com"}).json()
    clash = client.put(f"/api/contacts/{other['id']}", json={"email": "ANN@example.com"})
    assert clash.status_code == 409 and clash.json()["existing_id"] == first["id"]


async def test_rule_violations_are_422_naming_each_field(api):
    client = await api("editor")
    response = client.post(
        "/api/contacts",
        json={
            "email": "not-an-address",
            "phone": "1" * 51,
            "custom_fields": {"bad name": "x"},
            "nickname": "Jo",
            "shoe_size": 42,
        },
    )
    assert response.status_code == 422
    errors = fields(response)
    assert set(errors) == {"email", "phone", "custom_fields", "nickname", "shoe_size"}
    assert errors["nickname"] == errors["shoe_size"] == "Unknown field."
    assert "50" in errors["phone"]

    contact = client.post("/api/contacts", json={"email": "c@example.com"}).json()
    response = client.put(f"/api/contacts/{contact['id']}", json={"email": "", "unknown": 1})
    assert response.status_code == 422 and set(fields(response)) == {"email", "unknown"}
    assert client.get(f"/api/contacts/{contact['id']}").json()["email"] == "c@example.com"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a@example.com", "first_name": 5}, "first_name"),
        ({"email": "a@example.com", "tags": "developer"}, "tags"),
        ({"email": "a@example.com", "tags": [1]}, "tags[0]"),
        ({"email": "a@example.com", "is_active": "perhaps"}, "is_active"),
        ({"email": "a@example.com", "status": "gone"}, "status"),
        ({"email": "a@example.com", "custom_fields": {"a": [1, 2]}}, "custom_fields[...]"),
        ({"email": 42}, "email"),
        ({"first_name": "No address"}, "email"),
        (["a@example.com"], "body"),
    ],
)
async def test_wrong_types_are_400_naming_the_field(api, body, field):
    client = await api("editor")
    response = client.post("/api/contacts", json=body)
    assert response.status_code == 400, response.text
    assert field in fields(response), response.json()


async def test_malformed_or_missing_body_is_400(api):
    client = await api("editor")
    for content in (b"{not json", b"", b"null", b"{", b"\xff", b'{"email": "a@example.com",}'):
        response = client.post("/api/contacts", content=content, headers={"content-type": "application/json"})
        assert response.status_code == 400, (content, response.text)
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["detail"] and list(fields(response)) == ["body"], (content, response.text)


async def test_bad_ids_in_the_path_never_500(api):
    client = await api("editor")
    contact_id = client.post("/api/contacts", json={"email": "numbered@example.com"}).json()["id"]
    assert client.get(f"/api/contacts/{contact_id}").status_code == 200
    other_spellings = [f"0_{contact_id}", f"+{contact_id}", f"%20{contact_id}", f"{contact_id}%20", f"0{contact_id}"]
    fullwidth = "".join(chr(0xFF10 + int(digit)) for digit in str(contact_id))
    for path in ("/api/contacts/abc", "/api/contacts/1.5", "/api/contacts/999999", f"/api/contacts/{fullwidth}"):
        assert client.get(path).status_code == 404, path
    for spelling in other_spellings:  # int() reads them all as the same number; the API does not
        assert client.get(f"/api/contacts/{spelling}").status_code == 404, spelling
        assert client.delete(f"/api/contacts/{spelling}").status_code == 404, spelling
    assert client.get(f"/api/contacts/{contact_id}").status_code == 200
    for path in ("/api/contacts/0", "/api/contacts/-3", "/api/contacts/99999999999999999999999"):
        response = client.get(path)
        assert response.status_code == 400, path
        assert "contact_id" in fields(response)
        assert client.put(path, json={}).status_code == 400
        assert client.delete(path).status_code == 400
    assert client.put("/api/contacts/999999", json={"first_name": "x"}).status_code == 404


async def _seed(client) -> dict[str, int]:
    people = [
        ("ada@example.com", "Tech Corp", ["developer", "newsletter"], True),
        ("bob@example.com", "tech corp", ["developer"], True),
        ("cy@example.com", "Tech Corp", ["developer", "newsletter"], False),
        ("dee@example.com", "Other Inc", ["newsletter"], True),
        ("eve.smith@example.com", "Other Inc", [], True),
    ]
    ids = {}
    for email, company, tags, active in people:
        response = client.post(
            "/api/contacts", json={"email": email, "company": company, "tags": tags, "is_active": active}
        )
        assert response.status_code == 201, response.text
        ids[email] = response.json()["id"]
    return ids


async def test_filters(api):
    client = await api("viewer")
    editor = await api("editor")
    await _seed(editor)

    def emails(**params) -> set[str]:
        response = client.get("/api/contacts", params=params)
        assert response.status_code == 200, response.text
        return {c["email"] for c in response.json()["items"]}

    assert len(emails()) == 5
    assert emails(company="Tech Corp") == {"ada@example.com", "bob@example.com", "cy@example.com"}
    assert emails(tags="developer") == {"ada@example.com", "bob@example.com", "cy@example.com"}
    assert emails(tags="developer,newsletter") == {"ada@example.com", "cy@example.com"}
    assert emails(tags=" Newsletter , developer ,") == {"ada@example.com", "cy@example.com"}
    assert emails(company="Tech Corp", tags="developer", is_active="true") == {"ada@example.com", "bob@example.com"}
    assert emails(is_active="false") == {"cy@example.com"}
    assert emails(q="smi") == {"eve.smith@example.com"}
    assert emails(status="active") == emails()
    assert emails(status="bounced") == set()


async def test_keyset_pages_cover_everything_once(api):
    client = await api("editor")
    ids = await _seed(client)
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/contacts", params=params).json()
        assert len(body["items"]) <= 2
        seen += [c["id"] for c in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == sorted(ids.values(), reverse=True)  # newest first, nobody twice

    filtered = client.get("/api/contacts", params={"tags": "newsletter", "limit": 2}).json()
    rest = client.get(
        "/api/contacts", params={"tags": "newsletter", "limit": 2, "cursor": filtered["next_cursor"]}
    ).json()
    assert [c["email"] for c in filtered["items"] + rest["items"]] == [
        "dee@example.com",
        "cy@example.com",
        "ada@example.com",
    ]
    assert rest["next_cursor"] is None


def _cursor(payload) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": -5}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": 10**30}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"is_active": "perhaps"}, "is_active"),
        ({"status": "gone"}, "status"),
        ({"cursor": "garbage!!"}, "cursor"),
        ({"cursor": _cursor(["after", [1e999, 1e999]])}, "cursor"),
        ({"cursor": _cursor(["after", ["2024-13-45", 1]])}, "cursor"),
        ({"cursor": _cursor(["sideways", ["2024-01-01T00:00:00+00:00", 1]])}, "cursor"),
        ({"cursor": _cursor(["after", ["2024-01-01T00:00:00+00:00", 10**30]])}, "cursor"),
    ],
)
async def test_bad_query_parameters_are_400_naming_them(api, params, field):
    client = await api("viewer")
    response = client.get("/api/contacts", params=params)
    assert response.status_code == 400, response.text
    assert field in fields(response)


async def test_odd_but_wellformed_queries_do_not_fail(api):
    client = await api("viewer")
    await _seed(await api("editor"))
    edges = [
        _cursor(["after", [when, 2**63 - 1]]) for when in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00")
    ]
    for params in (
        {"cursor": edges[0]},
        {"cursor": edges[1]},
        {"q": "!!! ''' @@ ..."},
        {"q": "x" * 3000},
        {"tags": ",,,"},
        {"company": "%' OR 1=1 --"},
        {"limit": 500},
    ):
        response = client.get("/api/contacts", params=params)
        assert response.status_code == 200, (params, response.text)
    assert len(client.get("/api/contacts", params={"tags": ",,,"}).json()["items"]) == 5


async def test_bearer_key_is_required(db, live_server, api):
    import httpx

    response = httpx.get(live_server + "/api/contacts")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"]
    bad = httpx.get(live_server + "/api/contacts", headers={"Authorization": "Bearer mr_not-a-key"})
    assert bad.status_code == 401
    basic = httpx.get(live_server + "/api/contacts", headers={"Authorization": "Basic YTpi"})
    assert basic.status_code == 401


async def test_a_staff_session_does_not_open_the_api(db, live_server):
    user = await create_user(db, "admin")
    staff = sign_in(live_server, user.email)
    assert staff.get("/").status_code == 200  # signed in for the UI
    assert staff.get("/api/contacts").status_code == 401
    response = staff.post("/api/contacts", json={"email": "x@example.com"})
    assert response.status_code == 401


async def test_viewer_key_reads_but_cannot_write(api):
    editor = await api("editor")
    viewer = await api("viewer")
    contact = editor.post("/api/contacts", json={"email": "v@example.com"}).json()
    url = f"/api/contacts/{contact['id']}"
    assert viewer.get(url).status_code == 200
    assert viewer.get("/api/contacts").status_code == 200
    for response in (
        viewer.post("/api/contacts", json={"email": "w@example.com"}),
        viewer.put(url, json={"first_name": "Nope"}),
        viewer.delete(url),
    ):
        assert response.status_code == 403
        assert response.json()["status_code"] == 403
    assert editor.get(url).json() == contact
    assert editor.get("/api/contacts").json()["items"] == [contact]
