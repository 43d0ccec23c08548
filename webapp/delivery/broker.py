"""The Dramatiq broker. Import this before any actor module: actors bind to the broker set here.

MAILROOM_BROKER=stub (tests) gives an in-memory StubBroker driven by an in-process dramatiq.Worker.
"""

from __future__ import annotations

from collections.abc import Callable

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO

from webapp.core.config import get_settings

# dramatiq leaves RedisBroker's constructor unannotated; this names what it makes.
redis_broker: Callable[..., dramatiq.Broker] = RedisBroker


def make_broker() -> dramatiq.Broker:
    settings = get_settings()
    if settings.redis.broker == "stub":
        broker: dramatiq.Broker = StubBroker()
        broker.emit_after("process_boot")
    else:
        broker = redis_broker(url=settings.redis.url, namespace="mailroom")
    broker.add_middleware(AsyncIO())
    return broker


broker = make_broker()
dramatiq.set_broker(broker)
