"""Score, grade and lifecycle stage as segment conditions: contacts never scored count as score 0,
grade F, stage subscriber, so "score below 10" and "stage is subscriber" include them."""

from __future__ import annotations

from sqlalchemy import select

from tests.support.scoring import contact
from webapp.contacts.models import Contact
from webapp.lists.service import segments
from webapp.scoring import service as scoring


async def matching(db, field: str, op: str, value) -> set[str]:
    rules = {"operator": "AND", "conditions": [{"field": field, "op": op, "value": value}]}
    found = await segments.preview_rules(db, rules, None)
    assert await segments.count_rules(db, rules, None) == len(found)
    return {c.email for c in found}


async def test_segments_filter_on_score_grade_and_stage_counting_the_unscored_as_zero(db):
    people = {name: await contact(db, f"{name}@example.com") for name in ("hot", "warm", "cold", "new")}
    await scoring.add_points(db, [people["hot"]], 92, "test")
    await scoring.add_points(db, [people["warm"]], 50, "test")
    await scoring.add_points(db, [people["cold"]], 5, "test")
    await scoring.set_stage(db, people["cold"], {"stage": "customer"}, "staff")
    assert await matching(db, "score", "gte", 50) == {"hot@example.com", "warm@example.com"}
    assert await matching(db, "score", "lt", 10) == {"cold@example.com", "new@example.com"}
    assert await matching(db, "score", "eq", 0) == {"new@example.com"}
    assert await matching(db, "grade", "in", ["A+", "A"]) == {"hot@example.com"}
    assert await matching(db, "grade", "eq", "F") == {"cold@example.com", "new@example.com"}
    assert await matching(db, "grade", "neq", "F") == {"hot@example.com", "warm@example.com"}
    assert await matching(db, "lifecycle_stage", "eq", "subscriber") == {"new@example.com"}
    assert await matching(db, "lifecycle_stage", "not_in", ["subscriber", "mql"]) == {
        "hot@example.com",
        "cold@example.com",
    }
    assert len((await db.scalars(select(Contact))).all()) == 4


async def test_an_unknown_grade_or_stage_is_refused_naming_the_path(api, db):
    client = await api("editor")
    for field, value in (("grade", "Z"), ("lifecycle_stage", "king")):
        answer = client.post(
            "/api/lists",
            json={
                "name": "Bad",
                "list_type": "dynamic",
                "rules": {"operator": "AND", "conditions": [{"field": field, "op": "eq", "value": value}]},
            },
        )
        assert answer.status_code == 422, answer.text
        assert "rules.conditions[0].value" in {e["field"] for e in answer.json()["errors"]}
