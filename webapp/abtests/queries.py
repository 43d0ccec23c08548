"""The A/B tests' SQL: storing a test and its variants, reading them, counting each variant's
recipients, human opens and clicks, and splitting a campaign's deliveries into the test share and
the rest held back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.abtests.models import AbTest, AbTestStatus, AbVariant
from webapp.abtests.schemas import VariantRevenue
from webapp.analytics.models import EngagementFirst
from webapp.campaigns.models import Campaign, CampaignStatus, Delivery, DeliveryStatus
from webapp.conversions.models import Conversion
from webapp.core.cursors import decode_cursor
from webapp.core.queries import NEWEST_FIRST, newest_first

TEST_KEY = NEWEST_FIRST  # created_at, id


def is_test_cursor(cursor: str) -> bool:
    return decode_cursor(cursor, *TEST_KEY) is not None


@dataclass(frozen=True)
class TestPage:
    tests: list[AbTest]
    next_cursor: str | None


@dataclass(frozen=True)
class VariantFigures:
    variant_id: int
    recipients: int  # messages sent
    human_opens: int  # recipients who opened (or clicked), machine opens left out
    clicks: int  # recipients who clicked, security scanners' clicks left out
    buyers: int  # recipients with a conversion attributed to their message


async def add_test(session: AsyncSession, values: dict[str, Any], variants: Sequence[dict[str, Any]]) -> AbTest:
    test = AbTest(**values)
    session.add(test)
    await session.flush()
    session.add_all(AbVariant(ab_test_id=test.id, position=i, **variant) for i, variant in enumerate(variants))
    await session.flush()
    return test


async def delete_test(session: AsyncSession, test: AbTest) -> None:
    await session.delete(test)  # its variants go with it (ON DELETE CASCADE)
    await session.flush()


async def get_test(session: AsyncSession, test_id: int) -> AbTest | None:
    return await session.get(AbTest, test_id)


async def test_of_campaign(session: AsyncSession, campaign_id: int) -> AbTest | None:
    return await session.scalar(select(AbTest).where(AbTest.campaign_id == campaign_id))


async def variants_by_test(session: AsyncSession, test_ids: Sequence[int]) -> dict[int, list[AbVariant]]:
    """The variants of several tests in one query, each test's in their order."""
    found: dict[int, list[AbVariant]] = {test_id: [] for test_id in test_ids}
    rows = await session.scalars(
        select(AbVariant).where(AbVariant.ab_test_id.in_(test_ids)).order_by(AbVariant.ab_test_id, AbVariant.position)
    )
    for variant in rows:
        found[variant.ab_test_id].append(variant)
    return found


async def variants_for_the_rest(session: AsyncSession, campaign_ids: Sequence[int]) -> dict[int, AbVariant]:
    """By campaign: the variant its test sent to the rest (the chosen one, else the control)."""
    rows = await session.execute(
        select(AbTest.campaign_id, AbVariant)
        .join(AbVariant, AbVariant.ab_test_id == AbTest.id)
        .where(
            AbTest.campaign_id.in_(campaign_ids),
            or_(
                AbVariant.id == AbTest.chosen_variant_id,
                and_(AbTest.chosen_variant_id.is_(None), AbVariant.is_control),
            ),
        )
    )
    return dict(rows.tuples().all())


async def find_tests(session: AsyncSession, *, limit: int, cursor: str | None) -> TestPage:
    """Newest first: (created_at, id) descending, read from the index of that shape."""
    rows, next_cursor = await newest_first(
        session, select(AbTest), AbTest.created_at, AbTest.id, limit=limit, cursor=cursor
    )
    return TestPage(rows, next_cursor)


def _engaged(what: str) -> Any:
    # The analytics feature keeps each delivery's firsts, with machine opens and scanner clicks
    # already told apart: 'human_opened' is a person's first open or click, 'human_clicked' a
    # person's first click.
    return exists().where(
        and_(EngagementFirst.delivery_id == Delivery.id, EngagementFirst.what == what, EngagementFirst.link_id == 0)
    )


def _in_the_test() -> Any:
    """A delivery of the test share: the winner's send to the rest (its variant set when released,
    after the decision) is not part of the comparison."""
    return or_(AbTest.decided_at.is_(None), Delivery.sent_at <= AbTest.decided_at)


async def count_by_variant(session: AsyncSession, test_id: int) -> dict[int, VariantFigures]:
    """Each variant's sent messages of the test share and the people among them who opened and clicked."""
    sent = and_(Delivery.sent_at.is_not(None), _in_the_test())
    rows = await session.execute(
        select(
            AbVariant.id,
            func.count(Delivery.id).filter(sent),
            func.count(Delivery.id).filter(sent, _engaged("human_opened")),
            func.count(Delivery.id).filter(sent, _engaged("human_clicked")),
            func.count(Delivery.id).filter(sent, exists().where(Conversion.delivery_id == Delivery.id)),
        )
        .join(AbTest, AbTest.id == AbVariant.ab_test_id)
        .outerjoin(Delivery, Delivery.ab_variant_id == AbVariant.id)
        .where(AbVariant.ab_test_id == test_id)
        .group_by(AbVariant.id)
    )
    return {row[0]: VariantFigures(*row) for row in rows}


async def revenue_by_variant(session: AsyncSession, test_id: int) -> list[VariantRevenue]:
    """The orders credited to each variant's messages of the test share and their sum, per currency."""
    rows = await session.execute(
        select(AbVariant.id, Conversion.currency, func.count(Conversion.id), func.sum(Conversion.amount))
        .join(AbTest, AbTest.id == AbVariant.ab_test_id)
        .join(Delivery, Delivery.ab_variant_id == AbVariant.id)
        .join(Conversion, Conversion.delivery_id == Delivery.id)
        .where(AbVariant.ab_test_id == test_id, _in_the_test())
        .group_by(AbVariant.id, AbVariant.position, Conversion.currency)
        .order_by(AbVariant.position, Conversion.currency)
    )
    return [VariantRevenue(*row) for row in rows]


# The test share, drawn at random from the campaign's deliveries in one statement: shuffled, the
# first `share` rows take the variants in turn (so the split is even), the rest are held back.
# share = the test percent of the audience, rounded down to a multiple of the variant count, at
# least one recipient per variant.
SPLIT = text("""
WITH variants AS (
  SELECT id, row_number() OVER (ORDER BY position) - 1 AS i, count(*) OVER () AS k
  FROM ab_test_variants WHERE ab_test_id = :test_id
), shuffled AS (
  SELECT id, row_number() OVER (ORDER BY random()) - 1 AS r, count(*) OVER () AS n
  FROM deliveries WHERE campaign_id = :campaign_id
), sized AS (
  SELECT s.id, s.r, v.k, greatest(1, s.n * :percent / (100 * v.k)) * v.k AS share
  FROM shuffled s CROSS JOIN (SELECT max(k) AS k FROM variants) v
)
UPDATE deliveries d
SET ab_variant_id = CASE WHEN z.r < z.share THEN (SELECT id FROM variants WHERE i = z.r % z.k) END,
    status = CASE WHEN z.r < z.share THEN 'pending' ELSE 'held' END,
    updated_at = now()
FROM sized z
WHERE d.id = z.id
""")


async def start_testing(session: AsyncSession, campaign_id: int) -> AbTest | None:
    """The campaign's test, now testing, if it was a draft; None otherwise (no test, or started
    already), so a start that runs twice splits once."""
    return await session.scalar(
        update(AbTest)
        .where(AbTest.campaign_id == campaign_id, AbTest.status == AbTestStatus.DRAFT.value)
        .values(status=AbTestStatus.TESTING.value, updated_at=func.now())
        .returning(AbTest)
        .execution_options(synchronize_session=False)
    )


async def split_deliveries(session: AsyncSession, test: AbTest) -> None:
    await session.execute(SPLIT, {"test_id": test.id, "campaign_id": test.campaign_id, "percent": test.test_percent})


async def variants_by_id(session: AsyncSession, variant_ids: Sequence[int]) -> dict[int, AbVariant]:
    return {v.id: v for v in await session.scalars(select(AbVariant).where(AbVariant.id.in_(variant_ids)))}


async def has_held(session: AsyncSession, campaign_id: int) -> bool:
    held = select(Delivery.id).where(Delivery.campaign_id == campaign_id, Delivery.status == DeliveryStatus.HELD.value)
    return bool(await session.scalar(select(held.exists())))


async def waiting_campaign_ids(session: AsyncSession) -> set[int]:
    query = select(AbTest.campaign_id).where(AbTest.status == AbTestStatus.WAITING.value)
    return set(await session.scalars(query))


async def move_status(
    session: AsyncSession, campaign_id: int, before: AbTestStatus, after: AbTestStatus, reason: str = ""
) -> bool:
    """The campaign's test goes from `before` to `after`, if it is still `before` (a conditional
    UPDATE, so of two workers doing it at once one does). Leaving testing stamps test_sent_at; a
    reason, when given, is kept as the test's decision_reason."""
    values: dict[str, Any] = {"status": after.value, "updated_at": func.now()}
    if reason:
        values["decision_reason"] = reason
    if before is AbTestStatus.TESTING:
        values["test_sent_at"] = func.now()
    moved = await session.execute(
        update(AbTest)
        .where(AbTest.campaign_id == campaign_id, AbTest.status == before.value)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(moved.rowcount)  # type: ignore[attr-defined]


async def due_tests(session: AsyncSession, criteria: Sequence[str]) -> list[AbTest]:
    """Waiting tests whose wait is over, decided by one of these criteria, of campaigns not
    cancelled (a paused one is decided: its winner goes out when it resumes)."""
    over = AbTest.test_sent_at + func.make_interval(0, 0, 0, 0, 0, AbTest.wait_minutes) <= func.now()
    query = (
        select(AbTest)
        .join(Campaign, Campaign.id == AbTest.campaign_id)
        .where(
            AbTest.status == AbTestStatus.WAITING.value,
            over,
            AbTest.criterion.in_(criteria),
            Campaign.status != CampaignStatus.CANCELLED.value,
        )
    )
    return list(await session.scalars(query.order_by(AbTest.id)))


async def choose(session: AsyncSession, test_id: int, variant_id: int, reason: str) -> bool:
    """Record the winner, once: only a test still waiting is decided. False if it was not waiting
    (decided already, by another worker or a person)."""
    chosen = await session.execute(
        update(AbTest)
        .where(AbTest.id == test_id, AbTest.status == AbTestStatus.WAITING.value)
        .values(
            status=AbTestStatus.WINNER_CHOSEN.value,
            chosen_variant_id=variant_id,
            decision_reason=reason,
            decided_at=func.now(),
            updated_at=func.now(),
        )
        .execution_options(synchronize_session=False)
    )
    return bool(chosen.rowcount)  # type: ignore[attr-defined]


async def release_held(session: AsyncSession, campaign_id: int, variant_id: int) -> int:
    """Every held delivery of the campaign becomes pending, to be sent the winner; how many."""
    released = await session.execute(
        update(Delivery)
        .where(Delivery.campaign_id == campaign_id, Delivery.status == DeliveryStatus.HELD.value)
        .values(
            status=DeliveryStatus.PENDING.value,
            ab_variant_id=variant_id,
            next_attempt_at=func.now(),
            updated_at=func.now(),
        )
        .execution_options(synchronize_session=False)
    )
    return int(released.rowcount)  # type: ignore[attr-defined]
