"""Placement tests: a campaign's copies to every active seed, then polls of the seeds until each copy
is found (its folder, its authentication verdicts) or the test's wait is over and the copies not
found are reported missing. Copies are sent by the worker (actors.py); a poll is bounded in time
per seed and per test, and a test is finished by whichever poll sees it complete or past its wait."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webapp.campaigns.models import Campaign
from webapp.campaigns.service import campaigns
from webapp.core.errors import Conflict, NotFound
from webapp.core.schemas import load
from webapp.core.validation import is_valid_id
from webapp.placement import queries
from webapp.placement.models import PlacementCopy, PlacementTest, SeedMailbox
from webapp.placement.schemas import (
    DEFAULT_WAIT_MINUTES,
    AuthenticationOut,
    PlacementCopyOut,
    PlacementTestInput,
    PlacementTestOut,
)
from webapp.placement.service.imap import ConnectionFailed, Found, find, open_seed
from webapp.placement.service.verdicts import METHODS

NO_SEEDS = "Add an active seed mailbox under Settings → Seed mailboxes before testing inbox placement."
SEED_SECONDS = 60.0  # a poll of one seed opens no new folder after this
POLL_SECONDS = 300.0  # a poll of a test starts on no new seed after this; the next poll carries on
NEVER_SENT = "Not handed to a mail server within the test's wait (is a worker running?)."
UNFINISHED = ("pending", "sent")


async def start(session: AsyncSession, campaign_id: int, data: Mapping[str, Any]) -> PlacementTest:
    """A new test with a pending copy per active seed; the caller commits and has the copies sent."""
    campaign = await campaigns.get_campaign(session, campaign_id)
    values = load(PlacementTestInput, data)
    seeds = await queries.seeds(session, active_only=True)
    if not seeds:
        raise Conflict(NO_SEEDS)
    test = PlacementTest(
        campaign_id=campaign.id, status="sending", wait_minutes=values.get("wait_minutes", DEFAULT_WAIT_MINUTES)
    )
    session.add(test)
    await session.flush()
    session.add_all(_copy(test, seed) for seed in seeds)
    await session.flush()
    return test


def _copy(test: PlacementTest, seed: SeedMailbox) -> PlacementCopy:
    return PlacementCopy(
        test_id=test.id,
        seed_id=seed.id,
        seed_name=seed.name,
        provider=seed.provider,
        email=seed.email,
        token=secrets.token_hex(16),
        status="pending",
    )


async def get_test(session: AsyncSession, test_id: int) -> PlacementTest:
    test = await session.get(PlacementTest, test_id) if is_valid_id(test_id) else None
    if test is None:
        raise NotFound("That placement test does not exist (its campaign may have been deleted).")
    return test


async def latest_of_campaign(session: AsyncSession, campaign_id: int) -> PlacementTestOut | None:
    """The campaign's newest test, for its page."""
    test = await queries.latest_test(session, campaign_id)
    return summary(test, await queries.copies(session, test.id)) if test else None


async def results_of_campaign(session: AsyncSession, campaign_id: int) -> list[PlacementTestOut]:
    """The campaign's tests, newest first (NotFound for no such campaign)."""
    await campaigns.get_campaign(session, campaign_id)
    tests = await queries.tests_of_campaign(session, campaign_id)
    return [summary(test, await queries.copies(session, test.id)) for test in tests]


@dataclass(frozen=True)
class ToSend:
    campaign: Campaign
    copies: list[PlacementCopy]  # locked until the caller's transaction ends


async def to_send(session: AsyncSession, test_id: int) -> ToSend | None:
    """What is left to send of a test (None: nothing, e.g. a second run of the sender). The test is
    locked until the caller's transaction ends, so a poll never gives up on copies being sent."""
    test = await queries.lock_test(session, test_id)
    if test is None or test.status == "done":
        return None
    copies = await queries.copies_to_send(session, test_id)
    if not copies:
        return None
    return ToSend(await campaigns.get_campaign(session, test.campaign_id), copies)


async def record_sent(session: AsyncSession, test_id: int, sent: ToSend, failed: Mapping[str, str]) -> None:
    now = datetime.now(UTC)
    for copy in sent.copies:
        if error := failed.get(copy.token):
            copy.status, copy.error = "failed", error
        else:
            copy.status, copy.sent_at = "sent", now
    test = await get_test(session, test_id)
    test.status = "waiting"
    await session.flush()
    await _finish_if_complete(session, test, sent.copies)


async def tests_to_poll(session: AsyncSession) -> list[int]:
    return await queries.tests_to_poll(session)


async def poll(session: AsyncSession, test_id: int, seconds: float = POLL_SECONDS) -> None:
    """Look for the test's copies not found yet, one seed at a time; finish the test when every copy
    is accounted for or its wait is over. A seed that cannot be read keeps its error on its copies
    until a later poll finds them."""
    test = await queries.lock_test(session, test_id)
    if test is None or test.status == "done":
        return
    copies = await queries.copies(session, test_id)
    by_seed: dict[int, list[PlacementCopy]] = defaultdict(list)
    for copy in copies:
        if copy.status == "sent" and copy.seed_id is not None:
            by_seed[copy.seed_id].append(copy)
    deadline = time.monotonic() + seconds
    for seed_id, waiting in by_seed.items():
        seed = await session.get(SeedMailbox, seed_id)
        if seed is None:
            continue
        if time.monotonic() > deadline:
            break
        try:
            found = await _search(seed, [copy.token for copy in waiting])
        except ConnectionFailed as exc:
            for copy in waiting:
                copy.error = f"The seed mailbox could not be read: {exc}"
            continue
        for copy in waiting:
            copy.error = ""
            if where := found.get(copy.token):
                _arrived(copy, where)
    await session.flush()
    await _finish_if_complete(session, test, copies)


async def _search(seed: SeedMailbox, tokens: list[str]) -> dict[str, Found]:
    opened = await open_seed(seed)
    return await asyncio.to_thread(opened.run, find(tokens, time.monotonic() + SEED_SECONDS))


def _arrived(copy: PlacementCopy, found: Found) -> None:
    folder = found.folder[: PlacementCopy.folder.type.length]  # the server names it, at any length
    copy.status, copy.folder, copy.placement, copy.category = "arrived", folder, found.placement, found.category
    copy.authentication = found.authentication
    copy.arrived_at = found.arrived_at or datetime.now(UTC)


async def _finish_if_complete(session: AsyncSession, test: PlacementTest, copies: list[PlacementCopy]) -> None:
    now = datetime.now(UTC)
    if all(copy.status not in UNFINISHED for copy in copies):
        await queries.finish(session, test.id, now)
    elif now >= test.created_at + timedelta(minutes=test.wait_minutes):
        await queries.give_up(session, test.id, NEVER_SENT)
        await queries.finish(session, test.id, now)
    await session.refresh(test)


async def results(session: AsyncSession, test_id: int) -> PlacementTestOut:
    test = await get_test(session, test_id)
    copies = await queries.copies(session, test_id)
    return summary(test, copies)


def summary(test: PlacementTest, copies: list[PlacementCopy]) -> PlacementTestOut:
    def count(**wanted: str) -> int:
        return sum(all(getattr(copy, name) == value for name, value in wanted.items()) for copy in copies)

    sent = sum(copy.status != "failed" and copy.status != "pending" for copy in copies)
    inbox = count(placement="inbox")
    return PlacementTestOut(
        id=test.id,
        campaign_id=test.campaign_id,
        status=test.status,
        wait_minutes=test.wait_minutes,
        created_at=test.created_at,
        finished_at=test.finished_at,
        copies=len(copies),
        arrived=count(status="arrived"),
        inbox=inbox,
        spam=count(placement="spam"),
        category=count(placement="category"),
        missing=count(status="missing"),
        inbox_percent=round(100 * inbox / sent, 1) if sent else None,
        results=[_copy_out(copy) for copy in copies],
    )


def _copy_out(copy: PlacementCopy) -> PlacementCopyOut:
    arrived_in = (copy.arrived_at - copy.sent_at).total_seconds() if copy.arrived_at and copy.sent_at else None
    return PlacementCopyOut(
        seed=copy.seed_name,
        provider=copy.provider,
        email=copy.email,
        status=copy.status,
        placement=copy.placement,
        category=copy.category,
        folder=copy.folder,
        authentication=AuthenticationOut(**{k: v for k, v in copy.authentication.items() if k in METHODS}),
        seconds_to_arrive=max(arrived_in, 0.0) if arrived_in is not None else None,
        error=copy.error,
    )
