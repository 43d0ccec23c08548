"""JSON API: /api/ab-tests creates an A/B test for a draft campaign, checks every rule naming the
field, and reads each test back with live statistics per variant; the campaign resource shows its
variants. The statistics tests put the test share's deliveries in place directly (one row per
recipient, each naming its variant); test_ab_send.py sends them through the pipeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from tests.integration.test_analytics_rollups import CHROME, MPP, THUNDERBIRD, hit
from tests.support.campaigns import audience, ready_campaign
from webapp.tracking.service import hits

TWO_VARIANTS = [{"label": "A"}, {"label": "B", "subject": "Last chance, {{ first_name }}"}]


async def draft_campaign(db, recipients: int = 4) -> int:
    email_list = await audience(db, recipients)
    campaign = await ready_campaign(db, [email_list.id])
    await db.commit()
    return campaign.id


def create(client, campaign_id: int, **fields):
    return client.post("/api/ab-tests", json={"campaign_id": campaign_id, "variants": TWO_VARIANTS, **fields})


def errors(response) -> dict[str, str]:
    return {error["field"]: error["message"] for error in response.json()["errors"]}


async def test_an_ab_test_is_created_for_a_draft_campaign_with_the_seed_defaults(db, api):
    campaign_id = await draft_campaign(db)
    client = await api("editor")

    response = create(client, campaign_id)
    assert response.status_code == 201, response.text
    test = response.json()
    assert test["campaign_id"] == campaign_id
    assert (test["test_percent"], test["wait_minutes"], test["confidence_level"]) == (20, 240, 95)
    assert (test["criterion"], test["fallback"], test["status"]) == ("human_opens", "control", "draft")
    assert test["chosen_variant_id"] is None
    a, b = test["variants"]
    assert (a["label"], a["is_control"], a["subject"], a["html_content"]) == ("A", True, None, None)
    assert (b["label"], b["is_control"], b["subject"]) == ("B", False, "Last chance, {{ first_name }}")

    viewer = await api("viewer")
    read = viewer.get(f"/api/ab-tests/{test['id']}")
    assert read.status_code == 200, read.text
    assert {k: v for k, v in read.json().items() if k != "statistics"} == {
        k: v for k, v in test.items() if k != "statistics"
    }
    assert [item["id"] for item in viewer.get("/api/ab-tests").json()["items"]] == [test["id"]]
    campaign = viewer.get(f"/api/campaigns/{campaign_id}").json()
    assert campaign["ab_test_id"] == test["id"]
    assert campaign["variants"] == test["variants"]


async def test_choices_are_kept_and_the_control_may_be_any_variant(db, api):
    campaign_id = await draft_campaign(db)
    client = await api("editor")
    variants = [
        {"label": "Plain", "from_name": "Ana"},
        {"label": "Ours", "is_control": True},
        {"label": "Bold", "preheader": "Now"},
    ]
    response = create(
        client, campaign_id, variants=variants, test_percent=10, wait_minutes=60, criterion="clicks",
        confidence_level=99, fallback="leader",
    )  # fmt: skip
    assert response.status_code == 201, response.text
    test = response.json()
    assert (test["test_percent"], test["wait_minutes"], test["criterion"]) == (10, 60, "clicks")
    assert (test["confidence_level"], test["fallback"]) == (99, "leader")
    assert [(v["label"], v["is_control"]) for v in test["variants"]] == [
        ("Plain", False),
        ("Ours", True),
        ("Bold", False),
    ]
    assert test["variants"][2]["preheader"] == "Now" and test["variants"][0]["from_name"] == "Ana"


NINE = [{"label": "A"}] + [{"label": f"V{i}", "subject": f"S{i}"} for i in range(8)]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"variants": [{"label": "A"}]}, {"variants": "An A/B test has 2 to 8 variants."}),
        ({"variants": NINE}, {"variants": "An A/B test has 2 to 8 variants."}),
        (
            {"variants": [{"label": "A"}, {"label": "a", "subject": "x"}]},
            {"variants.1.label": "Another variant is labelled a."},
        ),
        ({"variants": [{"label": "A"}, {"label": ""}]}, {"variants.1.label": "Give the variant a label, e.g. A."}),
        (
            {"variants": [{"label": "A", "is_control": True}, {"label": "B", "is_control": True, "subject": "x"}]},
            {"variants.1.is_control": "Only one variant can be the control."},
        ),
        (
            {"variants": [{"label": "A"}, {"label": "B", "subject": "  "}]},
            {"variants.1": "Variant B changes nothing: give it a subject, from name, preheader or content of its own."},
        ),
        ({"variants": [{"label": "A"}, {"label": "B", "colour": "red"}]}, {"variants.1.colour": "Unknown field."}),
        (
            {"variants": [{"label": "A"}, {"label": "B", "preheader": "Hi {{ first_name"}]},
            {"variants.1.preheader": "Line 1: unexpected end of template, expected 'end of print statement'."},
        ),
        ({"test_percent": 0}, {"test_percent": "Test share must be between 1 and 50."}),
        ({"test_percent": 51}, {"test_percent": "Test share must be between 1 and 50."}),
        ({"wait_minutes": 5}, {"wait_minutes": "Wait must be between 15 and 43,200."}),
        ({"confidence_level": 100}, {"confidence_level": "Confidence level must be between 80 and 99."}),
    ],
)
async def test_each_rule_is_a_422_naming_the_field(db, api, fields, expected):
    campaign_id = await draft_campaign(db, recipients=1)
    response = create(await api("editor"), campaign_id, **fields)
    assert response.status_code == 422, response.text
    assert errors(response) == expected


async def test_a_choice_outside_the_list_is_a_400_naming_the_field(db, api):
    campaign_id = await draft_campaign(db, recipients=1)
    client = await api("editor")
    for field, value in (("criterion", "loudest"), ("fallback", "random"), ("test_percent", "many")):
        response = create(client, campaign_id, **{field: value})
        assert response.status_code == 400, response.text
        assert list(errors(response)) == [field]


async def test_variant_content_is_checked_like_a_template(db, api):
    campaign_id = await draft_campaign(db, recipients=1)
    response = create(
        await api("editor"), campaign_id, variants=[{"label": "A"}, {"label": "B", "subject": "Hi {{ name"}]
    )
    assert response.status_code == 422
    assert list(errors(response)) == ["variants.1.subject"]

    failing = [  # each parses, and fails when rendered: every message of the variant would
        {"label": "A"},
        {"label": "B", "html_content": "<p>Hi</p>\n<p>{{ 1 / 0 }}</p>"},
        {"label": "C", "preheader": "{{ nothing.x }}", "subject": "Fine {{ first_name }}"},
    ]
    response = create(await api("editor"), campaign_id, variants=failing)
    assert response.status_code == 422
    assert errors(response) == {
        "variants.1.html_content": "Line 2: The template failed: division by zero",
        "variants.2.preheader": "Line 1: The template failed: 'nothing' is undefined",
    }


async def test_only_a_draft_campaign_without_a_test_can_get_one(db, api):
    campaign_id = await draft_campaign(db, recipients=1)
    client = await api("editor")
    missing = client.post("/api/ab-tests", json={"variants": TWO_VARIANTS})
    assert missing.status_code == 400 and list(errors(missing)) == ["campaign_id"]
    unknown = create(client, 999_999)
    assert unknown.status_code == 422 and errors(unknown) == {"campaign_id": "No campaign has this id."}
    assert create(client, campaign_id).status_code == 201
    again = create(client, campaign_id)
    assert again.status_code == 409 and errors(again) == {"campaign_id": "This campaign already has an A/B test."}
    other = (await ready_campaign(db, [await db.scalar(text("SELECT id FROM email_lists"))])).id
    await db.execute(text("UPDATE campaigns SET status = 'sent' WHERE id = :c"), {"c": other})
    await db.commit()
    sent = create(client, other)
    assert sent.status_code == 409
    assert errors(sent) == {"campaign_id": "Only a draft campaign can become an A/B test; this one is sent."}


async def test_viewers_read_but_do_not_create_and_unknown_tests_are_404(db, api):
    campaign_id = await draft_campaign(db, recipients=1)
    viewer = await api("viewer")
    assert create(viewer, campaign_id).status_code == 403
    assert viewer.get("/api/ab-tests/999999").status_code == 404
    assert viewer.get("/api/ab-tests", params={"cursor": "nope"}).status_code == 400


async def sent_test_share(db, campaign_id: int, variant_ids: list[int]) -> list[int]:
    """A sent delivery per recipient, each naming its variant in turn, as the send flow leaves them."""
    sent_at = datetime.now(UTC) - timedelta(hours=1)
    await db.execute(
        text("""INSERT INTO deliveries (campaign_id, contact_id, email, status, sent_at)
                SELECT :c, id, email, 'sent', :at FROM contacts ORDER BY id"""),
        {"c": campaign_id, "at": sent_at},
    )
    deliveries = list(
        await db.scalars(text("SELECT id FROM deliveries WHERE campaign_id = :c ORDER BY id"), {"c": campaign_id})
    )
    for index, delivery_id in enumerate(deliveries):
        await db.execute(text("UPDATE deliveries SET ab_variant_id = :v WHERE id = :d"),
                         {"v": variant_ids[index % len(variant_ids)], "d": delivery_id})  # fmt: skip
    await db.execute(
        text("UPDATE campaigns SET status = 'sending', started_at = :at WHERE id = :c"),
        {"c": campaign_id, "at": sent_at},
    )
    await db.commit()
    return deliveries


async def test_live_statistics_count_human_opens_and_clicks_per_variant(db, api):
    campaign_id = await draft_campaign(db, recipients=4)
    client = await api("editor")
    test = create(client, campaign_id).json()
    a, b = (v["id"] for v in test["variants"])
    first_a, first_b, _, second_b = await sent_test_share(db, campaign_id, [a, b])
    link = await db.scalar(
        text("INSERT INTO links (campaign_id, url) VALUES (:c, 'https://example.com/a') RETURNING id"),
        {"c": campaign_id},
    )
    await db.commit()
    later = datetime.now(UTC)
    await hits.apply(
        db,
        [
            hit("open", first_a, THUNDERBIRD, at=later),
            hit("click", first_a, CHROME, link, at=later + timedelta(minutes=1)),
            hit("open", first_b, MPP, at=later),  # Apple's privacy proxy: not a person
            hit("open", second_b, THUNDERBIRD, at=later),
            hit("open", second_b, THUNDERBIRD, at=later + timedelta(minutes=2)),  # the same person again
        ],
    )
    await db.commit()

    statistics = {m["metric"]: m for m in client.get(f"/api/ab-tests/{test['id']}").json()["statistics"]}
    assert set(statistics) == {"human_opens", "clicks"}
    opens = statistics["human_opens"]
    assert [(v["label"], v["recipients"], v["successes"], v["rate"]) for v in opens["variants"]] == [
        ("A", 2, 1, 0.5),
        ("B", 2, 1, 0.5),
    ]
    assert [v["is_control"] for v in opens["variants"]] == [True, False]
    assert opens["variants"][0]["interval_low"] == pytest.approx(0.0945, abs=0.0001)  # Wilson, 1 of 2 at 95 %
    assert opens["variants"][0]["interval_high"] == pytest.approx(0.9055, abs=0.0001)
    assert [v["probability_best"] for v in opens["variants"]] == pytest.approx([0.5, 0.5])
    assert not opens["significant"] and opens["winner"] == "A"  # the fallback: the control
    assert opens["reason"].startswith("No variant is significantly better")
    clicks = statistics["clicks"]
    assert [(v["label"], v["successes"]) for v in clicks["variants"]] == [("A", 1), ("B", 0)]
    assert clicks["variants"][0]["probability_best"] > 0.5
    assert "sent" not in clicks["reason"]  # not the criterion: what would be sent is the opens' to say


async def test_a_test_with_nothing_sent_says_so(db, api):
    campaign_id = await draft_campaign(db, recipients=1)
    client = await api("editor")
    variants = [*TWO_VARIANTS, {"label": "C", "subject": "Third"}]
    test = create(client, campaign_id, variants=variants).json()
    statistics = client.get(f"/api/ab-tests/{test['id']}").json()["statistics"]
    for metric in statistics:
        assert [v["recipients"] for v in metric["variants"]] == [0, 0, 0]
        assert [(v["interval_low"], v["interval_high"]) for v in metric["variants"]] == [(0.0, 1.0)] * 3
        assert [v["probability_best"] for v in metric["variants"]] == pytest.approx([1 / 3] * 3, abs=0.01)
        assert not metric["significant"] and metric["winner"] == "A"
        assert metric["reason"].startswith("No variant is significantly better: A, B, C have no recipients yet.")


async def test_a_campaign_with_an_ab_test_is_ready_to_send(db, api):
    campaign_id = await draft_campaign(db, recipients=1)
    client = await api("editor")
    assert create(client, campaign_id).status_code == 201
    assert client.post(f"/api/campaigns/{campaign_id}/send").status_code == 202


async def test_a_draft_test_can_be_deleted_and_its_campaign_sent_whole_again(db, api):
    campaign_id = await draft_campaign(db, recipients=1)
    client = await api("editor")
    test = create(client, campaign_id).json()
    assert (await api("viewer")).delete(f"/api/ab-tests/{test['id']}").status_code == 403
    assert client.delete(f"/api/ab-tests/{test['id']}").status_code == 204
    assert client.get(f"/api/ab-tests/{test['id']}").status_code == 404
    assert client.get(f"/api/campaigns/{campaign_id}").json()["variants"] == []
    assert client.delete(f"/api/ab-tests/{test['id']}").status_code == 404
    assert client.post(f"/api/campaigns/{campaign_id}/send").status_code == 202

    other = (await ready_campaign(db, [await db.scalar(text("SELECT id FROM email_lists"))])).id
    await db.commit()
    running = create(client, other).json()
    await db.execute(text("UPDATE ab_tests SET status = 'testing' WHERE id = :t"), {"t": running["id"]})
    await db.commit()
    refused = client.delete(f"/api/ab-tests/{running['id']}")
    assert refused.status_code == 409 and "testing" in refused.json()["detail"]


async def test_a_tests_emails_show_what_each_recipient_was_sent_by_their_variant(db, api):
    campaign_id = await draft_campaign(db, recipients=3)
    client = await api("editor")
    variants = [
        {"label": "A"},
        {"label": "B", "subject": "Last chance, {{ first_name }}", "html_content": "<p>Only B, {{ first_name }}</p>"},
    ]
    a, b = (v["id"] for v in create(client, campaign_id, variants=variants).json()["variants"])
    await sent_test_share(db, campaign_id, [a, b])
    await db.execute(text("UPDATE deliveries SET ab_variant_id = NULL WHERE email = 'person2@example.com'"))
    await db.commit()

    emails = client.get(f"/api/campaigns/{campaign_id}/emails", params={"include_content": "true"}).json()["items"]
    shown = {e["to_email"]: (e["subject"], "Only B" in e["html_content"]) for e in emails}
    assert shown == {
        "person0@example.com": ("Hello Person0", False),  # variant A keeps the campaign's subject and content
        "person1@example.com": ("Last chance, Person1", True),
        "person2@example.com": ("Hello Person2", False),  # no variant: the campaign as it is
    }
    subjects = client.get(f"/api/campaigns/{campaign_id}/emails").json()["items"]
    assert [e["subject"] for e in subjects] == ["Hello Person0", "Last chance, Person1", "Hello Person2"]
