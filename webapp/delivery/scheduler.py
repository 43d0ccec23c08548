"""A clock inside every worker process that sends the `tick` message every few seconds.

A Redis key taken with SET NX makes it one tick per interval across all workers, however many
processes and hosts run. The tick itself lives in actors.py.
"""

from __future__ import annotations

import logging
import threading

import dramatiq
import redis

from webapp.settings import get_settings

log = logging.getLogger("mailroom.scheduler")


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
                    from webapp.delivery.actors import tick

                    tick.send()
            except Exception:  # noqa: BLE001 - the clock must keep running through Redis hiccups
                log.exception("scheduler tick failed")
