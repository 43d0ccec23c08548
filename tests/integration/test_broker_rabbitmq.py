"""Dramatiq over RabbitMQ (BROKER_URL=amqp://...): a real RabbitMQ started by the test, a real worker
process whose every message (the scheduler's ticks, starting the campaign, the sending chains)
goes through it, and a real SMTP server at the end. Redis still holds the limits and locks."""

from __future__ import annotations

from collections.abc import Iterator

import pika
import pytest
import redis

from tests.support.campaigns import audience, delivery_counts, ready_campaign, sent_by_a_worker, smtp_server
from tests.support.rabbitmq import RabbitMQ
from tests.support.smtp import SmtpSink
from webapp.core.config import get_settings


@pytest.fixture(scope="module")
def rabbitmq() -> Iterator[RabbitMQ]:
    with RabbitMQ() as server:
        yield server


def messages_waiting_in(rabbitmq: RabbitMQ, queue: str) -> int:
    """How many messages the queue holds; it must exist (declared by a broker that used it)."""
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq.url))
    try:
        return connection.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        connection.close()


async def test_a_campaign_is_sent_by_a_worker_whose_messages_go_through_rabbitmq(db, worker, rabbitmq):
    redis_queues = redis.Redis.from_url(get_settings().redis.url)
    with SmtpSink() as sink:
        email_list = await audience(db, 40)
        await smtp_server(db, sink.port)
        campaign = await ready_campaign(db, [email_list.id])
        done = await sent_by_a_worker(db, worker, campaign.id, "rabbitmq-worker", BROKER_URL=rabbitmq.url, timeout=90)

    assert done.sent_count == 40 and await delivery_counts(db, campaign.id) == {"sent": 40}
    assert sorted(sink.handler.recipients()) == sorted(f"person{i}@example.com" for i in range(40))
    # The ticks and the sending chains were RabbitMQ's messages (their queues are there, emptied);
    # a worker on Redis's broker would have registered its heartbeat there and it has not.
    assert messages_waiting_in(rabbitmq, "scheduler") == 0 and messages_waiting_in(rabbitmq, "send") == 0
    assert not redis_queues.exists("mailroom:__heartbeats__")
