"""The A/B tests' SQL: storing a test and its variants, reading them, and counting each variant's
recipients, human opens and clicks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.abtests.models import AbTest, AbVariant
from webapp.analytics.models import EngagementFirst
from webapp.campaigns.models import Delivery
from webapp.core.cursors import Part, decode_cursor, encode_cursor

TEST_KEY = (Part.TIME, Part.ID)  # created_at, id


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


async def find_tests(session: AsyncSession, *, limit: int, cursor: str | None) -> TestPage:
    """Newest first: (created_at, id) descending, read from the index of that shape."""
    query = select(AbTest)
    if after := decode_cursor(cursor, *TEST_KEY):
        query = query.where(tuple_(AbTest.created_at, AbTest.id) < tuple_(*after))
    rows = list(await session.scalars(query.order_by(AbTest.created_at.desc(), AbTest.id.desc()).limit(limit + 1)))
    more, rows = len(rows) > limit, rows[:limit]
    last = rows[-1] if rows else None
    return TestPage(rows, encode_cursor(last.created_at, last.id) if more and last else None)


def _engaged(what: str) -> Any:
    # The analytics feature keeps each delivery's firsts, with machine opens and scanner clicks
    # already told apart: 'human_opened' is a person's first open or click, 'human_clicked' a
    # person's first click.
    return exists().where(
        and_(EngagementFirst.delivery_id == Delivery.id, EngagementFirst.what == what, EngagementFirst.link_id == 0)
    )


async def count_by_variant(session: AsyncSession, test_id: int) -> dict[int, VariantFigures]:
    """Each variant's sent messages and the people among them who opened and clicked."""
    sent = Delivery.sent_at.is_not(None)
    rows = await session.execute(
        select(
            AbVariant.id,
            func.count(Delivery.id).filter(sent),
            func.count(Delivery.id).filter(sent, _engaged("human_opened")),
            func.count(Delivery.id).filter(sent, _engaged("human_clicked")),
        )
        .outerjoin(Delivery, Delivery.ab_variant_id == AbVariant.id)
        .where(AbVariant.ab_test_id == test_id)
        .group_by(AbVariant.id)
    )
    return {row[0]: VariantFigures(*row) for row in rows}
