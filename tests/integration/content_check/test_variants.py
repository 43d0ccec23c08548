"""An A/B test's variants are each checked as their own message: the worst decides the score, a
finding of one variant names it, and changing a variant makes the check out of date."""

from __future__ import annotations

from tests.support.campaigns import audience, ready_campaign, reviewed
from webapp.abtests import service as abtests
from webapp.campaigns.models import Campaign
from webapp.campaigns.service import content_check
from webapp.delivery.content_check.campaigns import check_campaign

SHORTENED = '<html><body><p>Hello, the news of the week.</p><a href="https://bit.ly/3abc">Read on</a></body></html>'


async def test_each_variant_is_checked_and_the_worst_decides(db, dns):
    email_list = await audience(db, 4)
    c = await ready_campaign(db, [email_list.id])
    variants = [{"label": "A", "is_control": True}, {"label": "B", "subject": "Other", "html_content": SHORTENED}]
    await abtests.create_test(db, {"campaign_id": c.id, "variants": variants})

    found = await check_campaign(db, c)
    titles = [f["title"] for f in found.report["findings"]]
    assert "Variant B: Links through a URL shortener" in titles
    assert "No SPF record for example.com" in titles  # the same for every variant: named once, unlabelled
    assert [(v["label"], v["score"]) for v in found.report["variants"]] == [("A", 3.0), ("B", 4.5)]
    assert found.report["score"] == 4.5

    (_, [_, b]) = await abtests.test_of_campaign(db, c.id)
    b.html_content = SHORTENED.replace("bit.ly/3abc", "example.com/news")
    await db.flush()
    assert await content_check.verdict(db, await db.get(Campaign, c.id)) is None  # out of date
    assert (await check_campaign(db, c)).report["score"] == 3.0


async def test_the_review_step_names_each_variants_score(db, staff, dns):
    email_list = await audience(db, 4)
    c = await ready_campaign(db, [email_list.id])
    variants = [{"label": "A", "is_control": True}, {"label": "B", "subject": "Other", "html_content": SHORTENED}]
    await abtests.create_test(db, {"campaign_id": c.id, "variants": variants})
    await db.commit()
    review = reviewed(await staff("editor"), c.id)
    assert "A scores 3, B scores 4.5; the worst counts." in " ".join(review.text.split())
    assert "Variant B: Links through a URL shortener" in review.text
