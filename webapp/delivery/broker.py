"""The Dramatiq broker. Import this before any actor module: actors bind to the broker set here.

BROKER_URL chooses it: empty (the default) uses Redis at REDIS_URL, amqp:// or amqps:// a RabbitMQ
server, redis:// or unix:// another Redis. MAILROOM_BROKER=stub (tests) gives an in-memory
StubBroker driven by an in-process dramatiq.Worker.
"""

from __future__ import annotations

from collections.abc import Callable

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO

from webapp.core.config import get_settings

# dramatiq leaves the brokers' constructors unannotated; these name what they make.
redis_broker: Callable[..., dramatiq.Broker] = RedisBroker
rabbitmq_broker: Callable[..., dramatiq.Broker] = RabbitmqBroker

AMQP_SCHEMES = ("amqp://", "amqps://")


def make_broker() -> dramatiq.Broker:
    settings = get_settings()
    url = settings.redis.broker_url or settings.redis.url
    if settings.redis.broker == "stub":
        broker: dramatiq.Broker = StubBroker()
        broker.emit_after("process_boot")
    elif url.startswith(AMQP_SCHEMES):
        # Publisher confirms: a message the web app handed over is on the server, not in a socket buffer.
        broker = rabbitmq_broker(url=url, confirm_delivery=True)
    else:
        broker = redis_broker(url=url, namespace="mailroom")
    broker.add_middleware(AsyncIO())
    return broker


broker = make_broker()
dramatiq.set_broker(broker)
