"""The segment compiler against PostgreSQL: compiled SQL selects exactly the contacts a plain-Python
evaluation of the same rules selects, for random contacts and random nested rules; and what a user
sends never becomes SQL."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, insert, select

from tests.support.segment_eval import matches
from webapp.contacts.models import Contact, ContactStatus
from webapp.lists.queries.conditions import compile_rules
from webapp.lists.schemas.rules import Group, parse_rules

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ALPHABET = "abAB%_\\' éÉ"
TAGS = ["vip", "new", "b2b", "x_y"]
TEXT_FIELDS = ["first_name", "company", "email", "language"]
DATE_FIELDS = ["last_opened", "date_added"]
CUSTOM_KEYS = ["plan", "score"]

words = st.text(ALPHABET, max_size=5)
rule_words = st.text(ALPHABET, min_size=1, max_size=3).filter(lambda s: s.strip())
moments = st.integers(0, 400 * 24).map(lambda hours: NOW - timedelta(hours=hours))
custom_values = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 20), words, st.sampled_from(["7", "12", "-3", "1.5", "abc", "B"])
)
contacts = st.lists(
    st.fixed_dictionaries(
        {
            "first_name": words,
            "company": words,
            "language": st.sampled_from(["", "en", "es", "ES"]),
            "status": st.sampled_from([s.value for s in ContactStatus]),
            "tags": st.lists(st.sampled_from(TAGS), unique=True, max_size=3),
            "emails_opened": st.integers(0, 6),
            "last_opened": st.none() | moments,
            "date_added": moments,
            "custom_fields": st.dictionaries(st.sampled_from(CUSTOM_KEYS), custom_values, max_size=2),
        }
    ),
    min_size=1,
    max_size=25,
)


def _condition(field: str, op: str, value) -> dict:
    return {"field": field, "op": op, "value": value}


text_conditions = st.builds(
    _condition,
    st.sampled_from(TEXT_FIELDS),
    st.sampled_from(["eq", "neq", "contains", "not_contains", "starts_with", "is_set", "is_not_set"]),
    rule_words,
)
status_conditions = st.one_of(
    st.builds(
        _condition, st.just("status"), st.sampled_from(["eq", "neq"]), st.sampled_from([s.value for s in ContactStatus])
    ),
    st.builds(
        _condition,
        st.just("status"),
        st.sampled_from(["in", "not_in"]),
        st.lists(st.sampled_from([s.value for s in ContactStatus]), min_size=1, max_size=3),
    ),
)
tag_conditions = st.builds(
    _condition,
    st.just("tags"),
    st.sampled_from(["has_any", "has_all", "has_none"]),
    st.lists(st.sampled_from([*TAGS, "VIP"]), min_size=1, max_size=3),
)
number_conditions = st.builds(
    _condition, st.just("emails_opened"), st.sampled_from(["eq", "neq", "gt", "gte", "lt", "lte"]), st.integers(0, 6)
)
date_values = st.one_of(
    st.integers(0, 400).map(lambda d: f"-{d}d"),
    st.integers(0, 14).map(lambda w: f"-{w}w"),
    st.integers(0, 400).map(lambda d: (NOW - timedelta(days=d)).date().isoformat()),
)
date_conditions = st.one_of(
    st.builds(_condition, st.sampled_from(DATE_FIELDS), st.sampled_from(["gt", "gte", "lt", "lte"]), date_values),
    st.builds(
        _condition,
        st.sampled_from(DATE_FIELDS),
        st.sampled_from(["within_last", "not_within_last"]),
        st.integers(1, 400),
    ),
    st.builds(_condition, st.sampled_from(DATE_FIELDS), st.sampled_from(["is_set", "is_not_set"]), st.none()),
)
custom_conditions = st.builds(
    _condition,
    st.sampled_from([f"custom.{k}" for k in CUSTOM_KEYS]),
    st.sampled_from(["eq", "neq", "contains", "gt", "gte", "lt", "lte", "is_set", "is_not_set"]),
    st.one_of(st.sampled_from(["7", "12", "-3", "1.5", "a", "B", "abc"]), st.integers(-5, 20)),
)
conditions = st.one_of(
    text_conditions, status_conditions, tag_conditions, number_conditions, date_conditions, custom_conditions
)
groups = st.recursive(
    conditions,
    lambda children: st.fixed_dictionaries(
        {"operator": st.sampled_from(["AND", "OR", "or"]), "conditions": st.lists(children, max_size=4)}
    ),
    max_leaves=10,
).map(lambda node: node if "conditions" in node else {"operator": "AND", "conditions": [node]})


@pytest.fixture(scope="module")
def engine():
    engine = create_engine(os.environ["DATABASE_URL"])
    yield engine
    engine.dispose()


def _leaves(group: Group) -> list[Group]:
    """Every condition of the tree as a rule of its own, so each is checked against every contact."""
    found: list[Group] = []
    for item in group.conditions:
        found += _leaves(item) if isinstance(item, Group) else [Group("AND", (item,))]
    return found


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(people=contacts, raw_rules=groups)
def test_compiled_sql_selects_what_python_evaluation_selects(engine, people, raw_rules):
    tree = parse_rules(raw_rules)
    rows = [{**person, "email": f"p{i}{person['first_name']}@example.com"} for i, person in enumerate(people)]
    with engine.connect() as connection, connection.begin() as transaction:
        ids = connection.scalars(insert(Contact).returning(Contact.id), rows).all()
        for rules in [tree, *_leaves(tree)]:
            matched = set(connection.scalars(select(Contact.id).where(Contact.id.in_(ids), compile_rules(rules, NOW))))
            expected = {contact_id for contact_id, row in zip(ids, rows, strict=True) if matches(rules, row, NOW)}
            assert matched == expected, rules
        transaction.rollback()


INJECTIONS = [
    "email; DROP TABLE contacts; --",
    "email' OR '1'='1",
    "custom.plan' OR 1=1 --",
    "custom.x->>'y'",
    "id",
    "password_hash",
    "contacts.email",
    "custom.",
    "custom.a\n",
    "__class__",
    "",
]


@pytest.mark.parametrize("field", INJECTIONS)
async def test_unknown_or_malicious_field_names_are_422_naming_the_path(api, field):
    client = await api("editor")
    rules = {
        "operator": "AND",
        "conditions": [
            {"field": "status", "op": "eq", "value": "active"},
            {"operator": "OR", "conditions": [{"field": field, "op": "eq", "value": "x"}]},
        ],
    }
    response = client.post("/api/lists", json={"name": "Hostile", "list_type": "dynamic", "rules": rules})
    assert response.status_code == 422, response.text
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert list(errors) == ["rules.conditions[1].conditions[0].field"]
    assert "Unknown field" in errors["rules.conditions[1].conditions[0].field"]


@pytest.mark.parametrize("op", ["eq; DELETE FROM contacts", "= 1 OR 1=1", "like", "EQ", None])
async def test_unknown_operators_are_422_naming_the_path(api, op):
    client = await api("editor")
    rules = {"operator": "AND", "conditions": [{"field": "email", "op": op, "value": "x"}]}
    response = client.post("/api/lists", json={"name": "Hostile", "list_type": "dynamic", "rules": rules})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["rules.conditions[0].op"]


async def test_hostile_values_are_only_ever_values(api, db):
    client = await api("editor")
    for email in ("o'brien@example.com", "plain@example.com"):
        assert (
            client.post(
                "/api/contacts", json={"email": email, "custom_fields": {"plan": "x'); DROP TABLE contacts; --"}}
            ).status_code
            == 201
        )

    def count(rules: dict) -> int:
        response = client.post(
            "/api/lists", json={"name": f"Hostile {count.n}", "list_type": "dynamic", "rules": rules}
        )
        count.n += 1
        assert response.status_code == 201, response.text
        return response.json()["contact_count"]

    count.n = 0

    assert count({"operator": "AND", "conditions": [{"field": "email", "op": "contains", "value": "o'brien"}]}) == 1
    assert (
        count(
            {
                "operator": "AND",
                "conditions": [{"field": "custom.plan", "op": "eq", "value": "x'); DROP TABLE contacts; --"}],
            }
        )
        == 2
    )
    # % and _ are literal characters, not LIKE wildcards (unescaped, both would match every contact)
    assert (
        count(
            {
                "operator": "OR",
                "conditions": [
                    {"field": "company", "op": "contains", "value": "%"},
                    {"field": "first_name", "op": "starts_with", "value": "_"},
                ],
            }
        )
        == 0
    )
    assert await db.scalar(select(func.count()).select_from(Contact)) == 2
