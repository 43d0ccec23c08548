"""A page's id beyond what PostgreSQL's bigint holds is a 404 on every route that takes one, never
an error from the query it would have reached. The routes are read from the app itself."""

from __future__ import annotations

from tests.support.routes import all_routes

TOO_BIG = 2**63


async def test_every_page_route_with_an_id_answers_404_for_one_no_row_can_have(staff, db):
    client = await staff("admin")
    numbered = [
        (huge, usual)
        for huge, usual in zip(all_routes(TOO_BIG), all_routes(), strict=True)
        if huge.path != usual.path and not huge.path.startswith("/api/") and huge.method != "OPTIONS"
    ]
    assert len(numbered) > 50, "the automations, scoring rules, campaigns... pages take ids"
    answers = {f"{r.method} {r.path}": client.request(r.method, r.path).status_code for r, _ in numbered}
    assert {route: status for route, status in answers.items() if status != 404} == {}
