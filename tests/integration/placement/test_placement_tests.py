"""An inbox placement test sends the campaign, as a recipient gets it, to every active seed through
the normal Mailer, then finds each copy in the seed's real IMAP mailbox (Dovecot): the folder the
provider filed it in, and the provider's authentication verdicts; copies never found are reported
missing once the test's wait is over."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from tests.integration.test_test_sends import signing_organisation
from tests.support.campaigns import audience, ready_campaign, smtp_server
from tests.support.dovecot import PASSWORD, USER
from tests.support.gmail_imap import GmailImap
from tests.support.seed_provider import seed_provider
from tests.support.smtp import SmtpSink
from webapp.core.errors import Conflict
from webapp.core.redis import get_redis
from webapp.delivery.broker import broker
from webapp.placement import actors
from webapp.placement.queries import copies as placement_copies
from webapp.placement.service import placement, seeds
from webapp.placement.service.imap import find, open_seed


def seed_form(dovecot, name: str, email: str, provider: str = "gmail", **values: str) -> dict[str, str]:
    return {
        "name": name,
        "provider": provider,
        "email": email,
        "host": "127.0.0.1",
        "port": str(dovecot.imap_port),
        "tls_mode": "none",
        "username": USER,
        "password": PASSWORD,
        "is_active": "on",
        "allow_private": "on",
    } | values


async def campaign_with_seeds(db, dovecot, sink_port: int) -> int:
    await smtp_server(db, sink_port)
    campaign = await ready_campaign(db, [(await audience(db, 1)).id])
    await seeds.create_seed(db, seed_form(dovecot, "Gmail 1", "seed.gmail@seeds.example.com"))
    await seeds.create_seed(db, seed_form(dovecot, "Outlook 1", "seed.outlook@seeds.example.com", "outlook"))
    await seeds.create_seed(db, seed_form(dovecot, "Paused", "paused@seeds.example.com", is_active=""))
    await db.commit()
    return campaign.id


def junk_for_outlook(recipient: str) -> str:
    return "Junk" if "outlook" in recipient else "INBOX"


async def test_each_seed_gets_the_real_message_and_its_folder_and_verdicts_are_reported(db, clean_mailbox):
    with seed_provider(clean_mailbox, folder_for=junk_for_outlook, spf="softfail") as provider:
        campaign_id = await campaign_with_seeds(db, clean_mailbox, provider.port)
        provider.handler.dkim_record = (await signing_organisation(db)).dkim_dns_record
        test_id = (await placement.start(db, campaign_id, {})).id
        await db.commit()
        await actors.send_copies_of(test_id)
        await actors.send_copies_of(test_id)  # the actor ran twice: nothing is sent again

    assert sorted(provider.handler.recipients()) == ["seed.gmail@seeds.example.com", "seed.outlook@seeds.example.com"]
    message = provider.messages[0]
    assert message["Subject"] == "Hello Jane"  # as a recipient gets it: no "[Test]"
    assert message["List-Unsubscribe"] and "1 Test Street" in message.get_body(("plain",)).get_content()

    db.expire_all()  # the sender wrote the copies in a session of its own
    await placement.poll(db, test_id)
    await db.commit()
    result = await placement.results(db, test_id)
    assert (result.status, result.copies, result.inbox, result.spam, result.missing) == ("done", 2, 1, 1, 0)
    assert result.inbox_percent == 50.0
    by_seed = {row.seed: row for row in result.results}
    assert (by_seed["Gmail 1"].placement, by_seed["Gmail 1"].folder) == ("inbox", "INBOX")
    assert (by_seed["Outlook 1"].placement, by_seed["Outlook 1"].folder) == ("spam", "Junk")
    verdicts = by_seed["Gmail 1"].authentication
    assert (verdicts.dkim, verdicts.spf, verdicts.dmarc) == ("pass", "softfail", "pass")
    assert by_seed["Gmail 1"].seconds_to_arrive is not None


async def test_copies_never_found_are_missing_once_the_wait_is_over(db, clean_mailbox):
    lost_for_gmail = {"seed.gmail@seeds.example.com": None}
    with seed_provider(clean_mailbox, folder_for=lambda r: lost_for_gmail.get(r, "INBOX")) as provider:
        campaign_id = await campaign_with_seeds(db, clean_mailbox, provider.port)
        test_id = (await placement.start(db, campaign_id, {"wait_minutes": "10"})).id
        await db.commit()
        await actors.send_copies_of(test_id)

    db.expire_all()  # the sender wrote the copies in a session of its own
    await placement.poll(db, test_id)
    await db.commit()
    waiting = await placement.results(db, test_id)
    assert (waiting.status, waiting.arrived, waiting.missing) == ("waiting", 1, 0)
    unsigned = next(row for row in waiting.results if row.status == "arrived").authentication
    assert unsigned.dkim == "fail"

    await db.execute(text("UPDATE placement_tests SET created_at = now() - interval '11 minutes'"))
    await db.commit()
    db.expire_all()  # the sender wrote the copies in a session of its own
    await placement.poll(db, test_id)
    await db.commit()
    done = await placement.results(db, test_id)
    assert (done.status, done.arrived, done.missing, done.inbox_percent) == ("done", 1, 1, 50.0)
    assert [row.seed for row in done.results if row.status == "missing"] == ["Gmail 1"]


async def test_a_seed_that_cannot_be_read_says_why_and_is_polled_again(db, clean_mailbox):
    with seed_provider(clean_mailbox) as provider:
        campaign_id = await campaign_with_seeds(db, clean_mailbox, provider.port)
        await db.execute(text("UPDATE seed_mailboxes SET allow_private = false WHERE name = 'Gmail 1'"))
        test_id = (await placement.start(db, campaign_id, {})).id
        await db.commit()
        await actors.send_copies_of(test_id)

    db.expire_all()  # the sender wrote the copies in a session of its own
    await placement.poll(db, test_id)
    await db.commit()
    result = await placement.results(db, test_id)
    gmail = next(row for row in result.results if row.seed == "Gmail 1")
    assert result.status == "waiting" and gmail.status == "sent"
    assert "127.0.0.1 is a loopback address" in gmail.error


async def test_without_an_active_seed_no_test_starts(db, clean_mailbox):
    campaign = await ready_campaign(db, [(await audience(db, 1)).id])
    with pytest.raises(Conflict, match="Seed mailboxes"):
        await placement.start(db, campaign.id, {})


async def test_a_copy_the_server_refuses_is_reported_failed(db, clean_mailbox):
    with seed_provider(clean_mailbox) as provider:
        provider.handler.reply_for = lambda address, count: "550 5.1.1 No such user" if "outlook" in address else None
        campaign_id = await campaign_with_seeds(db, clean_mailbox, provider.port)
        test_id = (await placement.start(db, campaign_id, {})).id
        await db.commit()
        await actors.send_copies_of(test_id)
    db.expire_all()  # the sender wrote the copies in a session of its own
    await placement.poll(db, test_id)
    await db.commit()
    result = await placement.results(db, test_id)
    outlook = next(row for row in result.results if row.seed == "Outlook 1")
    assert outlook.status == "failed" and "No such user" in outlook.error
    assert (result.status, result.inbox, result.inbox_percent) == ("done", 1, 100.0)


async def test_a_test_whose_copies_were_never_sent_gives_up_after_its_wait(db, clean_mailbox):
    """Its sender never ran (no worker, or it failed every retry): the tick's poll ends it."""
    campaign_id = await campaign_with_seeds(db, clean_mailbox, 2525)
    test_id = (await placement.start(db, campaign_id, {"wait_minutes": "10"})).id
    await db.commit()
    assert await placement.tests_to_poll(db) == []  # still within its wait: the sender may yet run

    await db.execute(text("UPDATE placement_tests SET created_at = now() - interval '11 minutes'"))
    await db.commit()
    assert await placement.tests_to_poll(db) == [test_id]
    await placement.poll(db, test_id)
    await db.commit()
    result = await placement.results(db, test_id)
    assert (result.status, result.inbox_percent) == ("done", None)
    assert {row.status for row in result.results} == {"failed"}
    assert "within the test's wait" in result.results[0].error
    await actors.send_copies_of(test_id)  # a sender that runs at last sends nothing for a finished test


async def test_the_tick_polls_each_test_once_per_interval_and_never_twice_at_once(db, clean_mailbox):
    queue = f"{broker.namespace}:{actors.QUEUE}"
    with seed_provider(clean_mailbox) as provider:
        campaign_id = await campaign_with_seeds(db, clean_mailbox, provider.port)
        test_id = (await placement.start(db, campaign_id, {})).id
        await db.commit()
        await actors.start_polls_if_due()
        assert await get_redis().llen(queue) == 0  # not sent yet: nothing to look for
        await actors.send_copies_of(test_id)

    redis = get_redis()
    await actors.start_polls_if_due()
    await actors.start_polls_if_due()
    assert await redis.llen(queue) == 1  # the second tick found the first poll running
    await actors.poll_and_release(test_id)  # the poll the worker runs
    await actors.start_polls_if_due()
    assert await redis.llen(queue) == 1  # done now: nothing more to poll


async def test_a_folder_name_longer_than_the_column_is_kept_shortened(db, clean_mailbox):
    long_name = "Spam " + "x" * 220  # the server names its folders at any length
    with seed_provider(clean_mailbox, folder_for=lambda recipient: long_name) as provider:
        campaign_id = await campaign_with_seeds(db, clean_mailbox, provider.port)
        test_id = (await placement.start(db, campaign_id, {})).id
        await db.commit()
        await actors.send_copies_of(test_id)
    await placement.poll(db, test_id)
    await db.commit()
    result = await placement.results(db, test_id)
    assert {(row.placement, row.folder) for row in result.results} == {("spam", long_name[:200])}


async def test_a_poll_past_its_time_reads_no_seed_and_the_next_poll_carries_on(db, clean_mailbox):
    with seed_provider(clean_mailbox) as provider:
        campaign_id = await campaign_with_seeds(db, clean_mailbox, provider.port)
        test_id = (await placement.start(db, campaign_id, {})).id
        await db.commit()
        await actors.send_copies_of(test_id)
    await placement.poll(db, test_id, seconds=-1)
    await db.commit()
    assert (await placement.results(db, test_id)).arrived == 0
    await placement.poll(db, test_id)
    await db.commit()
    assert (await placement.results(db, test_id)).arrived == 2


async def test_a_seed_s_search_past_its_deadline_opens_no_folder(db, clean_mailbox):
    with seed_provider(clean_mailbox) as provider:
        campaign_id = await campaign_with_seeds(db, clean_mailbox, provider.port)
        test_id = (await placement.start(db, campaign_id, {})).id
        await db.commit()
        await actors.send_copies_of(test_id)
    seed = (await seeds.list_seeds(db))[0]
    token = next(c.token for c in await placement_copies(db, test_id) if c.seed_id == seed.id)
    opened = await open_seed(seed)
    assert opened.run(find([token], time.monotonic() - 1)) == {}
    assert opened.run(find([token], time.monotonic() + 60))[token].folder == "INBOX"


async def test_at_gmail_a_copy_in_the_promotions_tab_and_one_in_spam_are_told_apart(db):
    """Gmail's tabs are no folders: its own search says which tab an inbox message is in."""
    with SmtpSink() as sink, GmailImap() as gmail:
        await smtp_server(db, sink.port)
        campaign = await ready_campaign(db, [(await audience(db, 1)).id])
        await seeds.create_seed(db, seed_form(gmail, "Tab", "tab@seeds.example.com"))
        await seeds.create_seed(db, seed_form(gmail, "Spam", "spam@seeds.example.com"))
        test_id = (await placement.start(db, campaign.id, {})).id
        await db.commit()
        await actors.send_copies_of(test_id)
        for message, raw in zip(sink.messages, sink.handler.raw, strict=True):
            if message["To"].startswith("tab@"):
                gmail.mailboxes.deliver("INBOX", raw, category="promotions")
            else:
                gmail.mailboxes.deliver("[Gmail]/Spam", raw)
        db.expire_all()
        await placement.poll(db, test_id)
        await db.commit()

    result = await placement.results(db, test_id)
    found = {row.seed: (row.placement, row.category, row.folder) for row in result.results}
    assert found == {"Tab": ("category", "Promotions", "INBOX"), "Spam": ("spam", "", "[Gmail]/Spam")}
    assert (result.status, result.inbox, result.category, result.spam, result.inbox_percent) == ("done", 0, 1, 1, 0.0)
