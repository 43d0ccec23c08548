"""The worker process (`mailroom worker` runs `dramatiq webapp.worker`): every feature's actors,
a scheduler clock that sends `tick` every few seconds, and the event worker (tracking/actors.py).

A Redis key taken with SET NX makes it one tick per interval across all workers, however many
processes and hosts run. HTTP handlers only change state; the tick notices work that is due or
that lost its worker and starts it, so work survives a restart of every process.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import dramatiq
import redis
import uvloop
from dramatiq.asyncio import get_event_loop_thread

from webapp.abtests import actors as abtest_actors
from webapp.analytics import actors as analytics_actors
from webapp.audit import actors as audit_actors
from webapp.automations import actors as automation_actors
from webapp.bounces import actors as bounce_actors
from webapp.core.config import get_settings
from webapp.delivery import actors as delivery_actors
from webapp.delivery.broker import broker
from webapp.imports import actors as import_actors
from webapp.placement import actors as placement_actors
from webapp.routing import actors as routing_actors
from webapp.scoring import actors as scoring_actors
from webapp.staff import actors as staff_actors
from webapp.subscriptions import actors as subscription_actors
from webapp.tracking.actors import EventConsumer
from webapp.transactional import actors as transactional_actors
from webapp.warmup import actors as warmup_actors
from webapp.webhooks import actors as webhook_actors

log = logging.getLogger("mailroom.scheduler")
asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())

# Importing a module declares its actors on the broker: that is all these are here for.
ACTOR_MODULES = (
    delivery_actors,
    import_actors,
    subscription_actors,
    staff_actors,
    webhook_actors,
    bounce_actors,
    placement_actors,
    transactional_actors,
)
TICK_TIME_LIMIT_MS = 60_000  # a tick only looks for work and hands it on; it never retries


@dramatiq.actor(queue_name="scheduler", max_retries=0, time_limit=TICK_TIME_LIMIT_MS)
async def tick() -> None:
    await delivery_actors.start_due_campaigns()
    await delivery_actors.resume_when_servers_answer()
    await delivery_actors.start_automation_emails()  # automation emails to send (new, to retry, left by a crash)
    await transactional_actors.start_if_due()  # transactional messages to retry, or whose queue message was lost
    await abtest_actors.decide_due()  # A/B tests whose wait is over: their winner goes to the rest
    await import_actors.resume_stalled()  # contact imports whose worker died
    await webhook_actors.start_if_due()  # webhook deliveries that are due (new, or to retry)
    await bounce_actors.start_if_due()  # the bounce mailbox, when its poll interval has passed
    await placement_actors.start_polls_if_due()  # seed mailboxes of placement tests waiting for their copies
    await analytics_actors.maintain_if_due()  # event partitions ahead and past retention, audience counts
    await automation_actors.start_if_due()  # automation steps that are due (waits ended, new enrolments)
    await automation_actors.start_trigger_checks()  # imports' signals; date, not-opened, segment triggers
    await scoring_actors.recompute_if_due()  # every contact's score from scratch, once a day
    await warmup_actors.hold_over_thresholds()  # warm-up plans whose bounce or complaint rate is too high
    await routing_actors.keep_hours_if_due()  # the transports' hourly figures, for their page
    await audit_actors.prune_if_due()  # audit events older than a year, once a day


class SchedulerClock(dramatiq.Middleware):
    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mailroom-scheduler", daemon=True)
        self._thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if hasattr(self, "_stop"):
            self._stop.set()

    def _run(self) -> None:
        settings = get_settings()
        interval = settings.delivery.scheduler_interval
        client = redis.Redis.from_url(settings.redis.url)
        while not self._stop.wait(interval):
            try:
                if client.set("mailroom:scheduler:tick", "1", nx=True, px=int(interval * 1000)):
                    tick.send()
            except Exception:
                log.exception("scheduler tick failed")


class EventWorker(dramatiq.Middleware):
    """Every worker process applies buffered opens and clicks, on its actor event loop."""

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        loop_thread = get_event_loop_thread()
        assert loop_thread is not None  # the AsyncIO middleware started it before any after_worker_boot
        self._consumer = EventConsumer()
        asyncio.run_coroutine_threadsafe(self._consumer.run(), loop_thread.loop)

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if hasattr(self, "_consumer"):
            self._consumer.stopping = True


class FrozenStartup(dramatiq.Middleware):
    """Keeps what a worker process loaded to start (modules, mappers, templates: most of its objects)
    out of the cycle collector's passes, which walked them again and again: ~10 % of a sending
    worker's CPU (bench/send.py). A batch's objects mostly die before a young pass at 10,000
    allocations rather than 700, so fewer of them are promoted and walked again later (~3 % left)."""

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        gc.collect()
        gc.freeze()
        gc.set_threshold(10_000, 10, 10)


class HealthCountsKept(dramatiq.Middleware):
    """A worker that stops writes the transport health counts it still holds (they are written a
    second after they are counted, routing/service/health.py), after its last message."""

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        loop_thread = get_event_loop_thread()  # still running: the AsyncIO middleware stops it after this
        if loop_thread is not None:
            loop_thread.run_coroutine(routing_actors.write_health_counts())


class GracefulStop(dramatiq.Middleware):
    """A worker stops cleanly on SIGTERM, to its main process or to its whole process group (what
    systemd, supervisord, Docker and Kubernetes send): batches give back what they have not handed
    to a server, and the process exits once the messages in SMTP are done.

    Dramatiq's worker process takes a second SIGTERM as "exit now", which leaves its threads running
    for ever; a group SIGTERM always arrives twice (once directly, once relayed by the main process),
    so repeats are ignored here. SIGKILL remains the way to stop at once."""

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        for signum in (signal.SIGTERM, signal.SIGHUP):
            handler = signal.getsignal(signum)
            if callable(handler):
                signal.signal(signum, _stop_once(handler))

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        delivery_actors.stop_sending()


def _stop_once(handler: Callable[[int, FrameType | None], Any]) -> Callable[[int, FrameType | None], None]:
    """Stop sending at once (Dramatiq notices the signal only within a second), then let Dramatiq
    shut down, the first time only."""
    received = False

    def first_only(signum: int, frame: FrameType | None) -> None:
        nonlocal received
        if not received:
            received = True
            delivery_actors.stop_sending()
            handler(signum, frame)

    return first_only


if get_settings().redis.broker != "stub":  # tests drive the stub broker's worker themselves
    broker.add_middleware(SchedulerClock())
    broker.add_middleware(GracefulStop())
    broker.add_middleware(EventWorker())
    broker.add_middleware(FrozenStartup())
    broker.add_middleware(HealthCountsKept())
