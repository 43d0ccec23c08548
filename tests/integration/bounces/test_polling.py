"""Polling the bounce mailbox on a real IMAP and POP3 server (Dovecot): DSNs and complaints become
bounces and complaints of the right delivery, processed mail is deleted after the commit, and
anything else is left alone."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.integration.bounces.test_connection_check import form
from tests.integration.test_feedback_record import campaign, contact_status, sent_campaign
from tests.support.bounce_mail import bounce_mail
from webapp.bounces.service import mailbox, polling
from webapp.suppression.service import suppression


async def configure(db, dovecot, protocol: str = "imap", **values: str) -> None:
    await mailbox.update(db, form(dovecot, protocol, **({"delete_processed": "on"} | values)))
    await db.commit()


def mail_for(delivery, name: str, **options) -> bytes:
    return bounce_mail(
        name, delivery_id=delivery.id, recipient=delivery.email, message_id=delivery.message_id, **options
    )


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
async def test_a_hard_bounce_suppresses_its_contact_and_leaves_the_mailbox(db, clean_mailbox, protocol):
    dovecot = clean_mailbox
    campaign_id, (bounced, kept, *_) = await sent_campaign(db)
    await configure(db, dovecot, protocol)
    dovecot.deliver(mail_for(bounced, "postfix-hard"))

    result = await polling.poll()

    assert (result.read, result.recorded, result.error) == (1, 1, "")
    assert await contact_status(db, bounced.email) == "bounced"
    assert await suppression.is_suppressed(db, bounced.email)
    assert await contact_status(db, kept.email) == "active"
    assert (await campaign(db, campaign_id)).bounced_count == 1
    assert dovecot.subjects() == []  # deleted once recorded
    last = await polling.last_poll()
    assert last is not None and (last.read, last.recorded, last.left, last.error) == (1, 1, 0, "")


async def test_the_same_report_read_twice_counts_once(db, clean_mailbox):
    dovecot = clean_mailbox
    campaign_id, (bounced, *_) = await sent_campaign(db)
    await configure(db, dovecot, delete_processed="")
    dovecot.deliver(mail_for(bounced, "exchange-hard"), mail_for(bounced, "exchange-hard"))

    result = await polling.poll()

    assert (result.read, result.recorded) == (2, 1)
    assert (await campaign(db, campaign_id)).bounced_count == 1
    assert dovecot.subjects() == ["Undeliverable: Our December news"] * 2  # kept: deleting is off


async def test_a_bounce_to_a_forged_return_path_does_nothing(db, clean_mailbox):
    dovecot = clean_mailbox
    _, (victim, *_) = await sent_campaign(db)
    await configure(db, dovecot)
    dovecot.deliver(mail_for(victim, "postfix-hard", forged=True))

    result = await polling.poll()

    assert (result.read, result.recorded) == (1, 0)
    assert await contact_status(db, victim.email) == "active"
    assert not await suppression.is_suppressed(db, victim.email)
    assert await db.scalar(text("SELECT count(*) FROM email_events")) == 0
    assert dovecot.subjects() == ["Undelivered Mail Returned to Sender"]  # left for a human to look at


async def test_a_soft_bounce_counts_as_soft_and_a_delay_as_deferred(db, clean_mailbox):
    dovecot = clean_mailbox
    _, (soft, delayed, *_) = await sent_campaign(db)
    await configure(db, dovecot)
    dovecot.deliver(mail_for(soft, "postfix-soft"), mail_for(delayed, "gmail-delayed"))

    assert (await polling.poll()).recorded == 2

    assert await contact_status(db, soft.email) == "active"
    events = dict((await db.execute(text("SELECT kind, detail FROM email_events"))).all())
    assert events["bounce"].startswith("soft: 4.2.2")
    assert "4.4.1" in events["deferred"]


async def test_a_complaint_report_is_a_complaint(db, clean_mailbox):
    dovecot = clean_mailbox
    campaign_id, (complainer, *_) = await sent_campaign(db)
    await configure(db, dovecot, protocol="pop3")
    dovecot.deliver(mail_for(complainer, "arf-abuse"))

    assert (await polling.poll()).recorded == 1

    assert await contact_status(db, complainer.email) == "complained"
    assert (await campaign(db, campaign_id)).complained_count == 1
    assert dovecot.pop3_count() == 0


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
async def test_an_auto_reply_is_left_alone_and_not_read_again(db, clean_mailbox, protocol):
    dovecot = clean_mailbox
    _, (replier, bounced, *_) = await sent_campaign(db)
    await configure(db, dovecot, protocol)
    dovecot.deliver(mail_for(replier, "auto-reply"))

    first = await polling.poll()
    dovecot.deliver(mail_for(bounced, "postfix-hard"))
    second = await polling.poll()

    assert (first.read, first.recorded, second.read, second.recorded) == (1, 0, 1, 1)
    assert await contact_status(db, replier.email) == "active"
    assert dovecot.subjects() == ["Automatic reply: Our December news"]


async def test_a_mailbox_that_refuses_the_sign_in_is_reported_not_raised(db, clean_mailbox):
    await configure(db, clean_mailbox, password="wrong")
    result = await polling.poll()
    assert result.read == 0 and "Sign-in failed" in result.error
    last = await polling.last_poll()
    assert last is not None and last.error == result.error


async def test_nothing_is_polled_without_a_mailbox(db):
    assert await polling.poll() == polling.PollResult()


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
async def test_mail_read_by_a_poll_that_dies_before_its_commit_is_read_again(db, clean_mailbox, protocol):
    """Reading changes nothing on the server: only finishing a batch (after its commit) does."""
    from ipaddress import IPv4Address

    from webapp.bounces.service.connection import open_mailbox

    settings = await mailbox.from_form(db, form(clean_mailbox, protocol, delete_processed="on"))
    clean_mailbox.deliver(b"Subject: a bounce\r\n\r\nbody\r\n")
    with open_mailbox(settings, IPv4Address("127.0.0.1")) as opened:
        [first] = opened.fetch(10)  # and then the poll dies: no finish
    with open_mailbox(settings, IPv4Address("127.0.0.1")) as opened:
        [again] = opened.fetch(10)
        opened.finish([again.id], [], delete=True)
    assert again == first
    assert clean_mailbox.subjects() == []


async def test_a_complaint_with_the_recipient_redacted_is_the_complaint_of_the_signed_delivery(db, clean_mailbox):
    _, (complainer, other, *_) = await sent_campaign(db)
    await configure(db, clean_mailbox)
    raw = mail_for(complainer, "arf-abuse").replace(f"Original-Rcpt-To: <{complainer.email}>\r\n".encode(), b"")
    clean_mailbox.deliver(raw)

    assert (await polling.poll()).recorded == 1

    assert await contact_status(db, complainer.email) == "complained"
    assert await contact_status(db, other.email) == "active"
