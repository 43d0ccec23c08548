"""JSON API /api/lists and membership against the real server."""

from __future__ import annotations

from datetime import datetime

import pytest

SEED_LIST = {
    "name": "Newsletter Subscribers",
    "description": "Main newsletter subscriber list",
    "list_type": "static",
    "tags": ["newsletter", "marketing"],
}
LIST_KEYS = {
    "id",
    "name",
    "description",
    "list_type",
    "contact_count",
    "tags",
    "created_by",
    "created_at",
    "updated_at",
    "is_active",
    "rules",
    "parent_list_id",
    "counted_at",
    "is_public",
    "double_opt_in",
    "consent_text",
}


def fields(response) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json().get("errors", [])}


async def test_create_and_get(api):
    client = await api("editor")
    created = client.post("/api/lists", json=SEED_LIST)
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == LIST_KEYS
    assert isinstance(body["id"], int)
    assert {k: body[k] for k in SEED_LIST} == SEED_LIST
    assert body["contact_count"] == 0 and body["is_active"] is True
    assert body["created_by"] == "api:test editor"  # the key's name
    datetime.fromisoformat(body["created_at"])
    datetime.fromisoformat(body["updated_at"])
    assert client.get(f"/api/lists/{body['id']}").json() == body

    minimal = client.post("/api/lists", json={"name": "Just a name"})
    assert minimal.status_code == 201
    assert minimal.json()["list_type"] == "static" and minimal.json()["tags"] == []


async def test_create_errors(api):
    client = await api("editor")
    client.post("/api/lists", json={"name": "Customers"})
    duplicate = client.post("/api/lists", json={"name": "CUSTOMERS"})
    assert duplicate.status_code == 409 and "name" in fields(duplicate)

    invalid = client.post("/api/lists", json={"name": "  ", "list_type": "segmented", "colour": "red"})
    assert invalid.status_code == 422
    assert set(fields(invalid)) == {"name", "colour"}

    # Forms and the segment builder separate tags with commas: a tag holding one would split at the next save.
    comma = "A tag cannot contain a comma: send each tag as an item of its own."
    tagged = client.post("/api/lists", json={"name": "Tagged", "tags": ["a,b"]})
    assert (tagged.status_code, fields(tagged)) == (422, {"tags": comma})
    rule = {"field": "tags", "op": "has_all", "value": ["a,b"]}
    segment = client.post(
        "/api/lists", json={"name": "Seg", "list_type": "dynamic", "rules": {"operator": "AND", "conditions": [rule]}}
    )
    assert segment.status_code == 422 and list(fields(segment).values()) == [comma]

    for body, field in (
        ({"name": 3}, "name"),
        ({"name": "x", "list_type": "weird"}, "list_type"),
        ({"name": "x", "tags": [{"a": 1}]}, "tags[0]"),
        ({}, "name"),
    ):
        response = client.post("/api/lists", json=body)
        assert response.status_code == 400, response.text
        assert field in fields(response)
    assert client.post("/api/lists", content=b"{oops", headers={"content-type": "application/json"}).status_code == 400


async def test_list_filters_and_limit(api):
    client = await api("editor")
    for name, active in (("Beta", True), ("alpha", True), ("Gamma", False)):
        assert client.post("/api/lists", json={"name": name, "is_active": active}).status_code == 201
    other = await api("editor")  # a second key with its own name
    other.post("/api/lists", json={"name": "Delta"})

    def names(**params) -> list[str]:
        response = client.get("/api/lists", params=params)
        assert response.status_code == 200, response.text
        assert set(response.json()) == {"items", "next_cursor"}
        return [x["name"] for x in response.json()["items"]]

    assert names() == ["alpha", "Beta", "Delta", "Gamma"]
    assert names(is_active="true") == ["alpha", "Beta", "Delta"]
    assert names(is_active="false") == ["Gamma"]
    assert names(list_type="static") == names()
    assert names(list_type="dynamic") == []
    assert names(created_by="api:test editor") == ["alpha", "Beta", "Gamma"]
    assert names(created_by="api:test editor 2") == ["Delta"]  # keys in use have names of their own
    assert names(created_by="admin") == []
    assert names(limit=2) == ["alpha", "Beta"]
    first = client.get("/api/lists", params={"limit": 3}).json()
    rest = client.get("/api/lists", params={"limit": 3, "cursor": first["next_cursor"]}).json()
    assert [x["name"] for x in rest["items"]] == ["Gamma"] and rest["next_cursor"] is None
    assert client.get("/api/lists").json()["next_cursor"] is None
    for params, field in (
        ({"limit": 0}, "limit"),
        ({"limit": 10**25}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"list_type": "weird"}, "list_type"),
        ({"is_active": "maybe"}, "is_active"),
        ({"cursor": "not a cursor"}, "cursor"),
    ):
        response = client.get("/api/lists", params=params)
        assert response.status_code == 400 and field in fields(response), response.text


async def test_add_and_remove_members(api):
    client = await api("editor")
    email_list = client.post("/api/lists", json={"name": "Design"}).json()
    contact = client.post("/api/contacts", json={"email": "jane@example.com"}).json()
    member = f"/api/lists/{email_list['id']}/contacts/{contact['id']}"

    added = client.post(member)
    assert added.status_code == 201, added.text
    assert added.json()["id"] == email_list["id"] and added.json()["contact_count"] == 1
    again = client.post(member)
    assert again.status_code == 200 and again.json()["contact_count"] == 1
    assert client.get(f"/api/lists/{email_list['id']}").json()["contact_count"] == 1

    removed = client.delete(member)
    assert removed.status_code == 204 and removed.content == b""
    assert client.get(f"/api/lists/{email_list['id']}").json()["contact_count"] == 0
    not_member = client.delete(member)
    assert not_member.status_code == 404 and "contact_id" in fields(not_member)

    client.post(member)
    client.delete(f"/api/contacts/{contact['id']}")  # deleting the contact leaves the list
    assert client.get(f"/api/lists/{email_list['id']}").json()["contact_count"] == 0


async def test_delete_a_list_keeps_its_contacts(api):
    editor, viewer = await api("editor"), await api("viewer")
    email_list = editor.post("/api/lists", json={"name": "Design"}).json()
    contact = editor.post("/api/contacts", json={"email": "jane@example.com"}).json()
    editor.post(f"/api/lists/{email_list['id']}/contacts/{contact['id']}")
    url = f"/api/lists/{email_list['id']}"

    assert viewer.delete(url).status_code == 403
    deleted = editor.delete(url)
    assert deleted.status_code == 204 and deleted.content == b""
    assert editor.get(url).status_code == 404 and editor.delete(url).status_code == 404
    assert editor.get(f"/api/contacts/{contact['id']}").status_code == 200

    parent = editor.post("/api/lists", json={"name": "Customers"}).json()
    rules = {"operator": "AND", "conditions": [{"field": "tags", "op": "has_any", "value": ["vip"]}]}
    segment = editor.post(
        "/api/lists",
        json={"name": "VIP customers", "list_type": "segmented", "parent_list_id": parent["id"], "rules": rules},
    ).json()
    refused = editor.delete(f"/api/lists/{parent['id']}")  # the segment chooses from its contacts
    assert refused.status_code == 409 and "'VIP customers'" in refused.json()["detail"]
    assert editor.delete(f"/api/lists/{segment['id']}").status_code == 204
    assert editor.delete(f"/api/lists/{parent['id']}").status_code == 204


async def test_membership_with_unknown_or_bad_ids(api):
    client = await api("editor")
    email_list = client.post("/api/lists", json={"name": "Design"}).json()
    contact = client.post("/api/contacts", json={"email": "jane@example.com"}).json()
    lid, cid = email_list["id"], contact["id"]
    for path in (
        f"/api/lists/{lid}/contacts/999999",
        f"/api/lists/999999/contacts/{cid}",
        f"/api/lists/abc/contacts/{cid}",
        f"/api/lists/{lid}/contacts/abc",
    ):
        assert client.post(path).status_code == 404, path
        assert client.delete(path).status_code == 404, path
    for path, field in (
        (f"/api/lists/{lid}/contacts/{10**20}", "contact_id"),
        (f"/api/lists/-1/contacts/{cid}", "list_id"),
    ):
        for response in (client.post(path), client.delete(path)):
            assert response.status_code == 400 and field in fields(response), response.text
    assert client.get("/api/lists/999999").status_code == 404
    assert client.get(f"/api/lists/{10**20}").status_code == 400
    assert client.get(f"/api/lists/{lid}").json()["contact_count"] == 0


@pytest.mark.parametrize("method", ["post", "delete"])
async def test_viewer_key_cannot_change_lists(api, method):
    editor = await api("editor")
    viewer = await api("viewer")
    email_list = editor.post("/api/lists", json={"name": "Design"}).json()
    contact = editor.post("/api/contacts", json={"email": "jane@example.com"}).json()
    member = f"/api/lists/{email_list['id']}/contacts/{contact['id']}"
    if method == "delete":
        editor.post(member)
    assert getattr(viewer, method)(member).status_code == 403
    assert viewer.post("/api/lists", json={"name": "Nope"}).status_code == 403
    assert viewer.get("/api/lists").status_code == 200
    after = viewer.get(f"/api/lists/{email_list['id']}").json()
    assert after["contact_count"] == (1 if method == "delete" else 0)
    assert [x["name"] for x in viewer.get("/api/lists").json()["items"]] == ["Design"]


async def test_lists_need_a_key(api, live_server):
    import httpx

    response = httpx.post(live_server + "/api/lists", json={"name": "x"})
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"


async def test_only_static_lists_take_members(api, db):
    from webapp.lists.models import EmailList

    client = await api("editor")
    dynamic = EmailList(name="Engaged", list_type="dynamic")
    db.add(dynamic)
    await db.commit()
    contact = client.post("/api/contacts", json={"email": "jane@example.com"}).json()
    response = client.post(f"/api/lists/{dynamic.id}/contacts/{contact['id']}")
    assert response.status_code == 409 and "static" in response.json()["detail"]
    assert list(fields(response)) == ["list_type"]
    assert client.get(f"/api/lists/{dynamic.id}").json()["list_type"] == "dynamic"


async def test_public_signup_settings_through_the_api(api):
    client = await api("editor")
    created = client.post(
        "/api/lists",
        json={"name": "Weekly", "is_public": True, "double_opt_in": False, "consent_text": "Send me the weekly news."},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["is_public"], body["double_opt_in"], body["consent_text"]) == (True, False, "Send me the weekly news.")
    changed = client.patch(f"/api/lists/{body['id']}", json={"double_opt_in": True})
    assert changed.status_code == 200 and changed.json()["double_opt_in"] is True
    segment_public = client.post(
        "/api/lists",
        json={
            "name": "Smart",
            "list_type": "dynamic",
            "is_public": True,
            "rules": {"operator": "AND", "conditions": []},
        },
    )
    assert segment_public.status_code == 422
    assert [e["field"] for e in segment_public.json()["errors"]] == ["is_public"]
