"""What a worker process must know the moment it changes, pushed by PostgreSQL: the triggers of
migration 0007 NOTIFY when a campaign's status changes and when SMTP servers change, those of 0029
when a contact may no longer be mailed, and one connection per process LISTENs. So a pause or cancel
stops a send between two messages, a deactivated server or a new limit applies from the next
message, and an opt-out stops the contact's message in a batch claimed before it (that message may
wait its turn at a rate-limited server for a while) unless it was already handed to a server.

The statuses of the campaigns this process sends are also read every POLL_SECONDS on the same
connection, so a notification missed while reconnecting (or behind a pooler that drops LISTEN) is
made up for within a second. Reads and notifications are handled one after the other, in the order
the database sent them, so the last one applied is the latest state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Iterator

from webapp.campaigns.models import CampaignStatus
from webapp.core.db import get_engine
from webapp.delivery import queries

log = logging.getLogger("mailroom.delivery")

CAMPAIGNS_CHANNEL, SERVERS_CHANNEL = "mailroom_campaign_status", "mailroom_smtp_servers"
OPT_OUTS_CHANNEL = "mailroom_opt_outs"  # a contact's id, or "*": look again at every contact
POLL_SECONDS = 1.0
READY_SECONDS = 5.0  # the first batches wait at most this long for the process to listen before they claim
RETRY_SECONDS = 1.0
SENDING = CampaignStatus.SENDING.value
# Nothing follows these; a campaign that reaches one is forgotten once its batches were told.
FINAL = frozenset({CampaignStatus.SENT.value, CampaignStatus.CANCELLED.value, CampaignStatus.FAILED.value})


class OptOuts:
    """The contacts that may no longer be mailed since a batch was claimed (`everyone`: any of
    them may not: notifications were too many for one transaction, or may have been missed)."""

    def __init__(self) -> None:
        self.contact_ids: set[int] = set()
        self.everyone = False

    def excludes(self, contact_id: int | None) -> bool:
        return self.everyone or contact_id in self.contact_ids


class Watch:
    def __init__(self) -> None:
        self.statuses: dict[int, str] = {}
        self.servers_changes = 0  # goes up whenever the SMTP servers may have changed
        self.stopping = False  # the worker is shutting down: send nothing more
        # Campaigns this process is pausing: stopped whatever the database says until the pause
        # commits (a read of the campaign still says sending meanwhile, and the pause may wait for a lock).
        self._held: Counter[int] = Counter()
        self._unheld: dict[int, asyncio.Event] = {}  # set when the last block holding the campaign ends
        self._stoppers: dict[int, list[Callable[[], None]]] = {}
        self._servers_listeners: list[Callable[[], None]] = []
        self._opt_outs: list[OptOuts] = []
        self._task: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None  # set once this process first listened (or gave up waiting)

    def on_servers_change(self, callback: Callable[[], None]) -> None:
        """Call `callback` (on the event loop) whenever the SMTP servers may have changed."""
        self._servers_listeners.append(callback)

    def _servers_changed(self) -> None:
        self.servers_changes += 1
        for callback in self._servers_listeners:
            callback()

    def sending(self, campaign_id: int) -> bool:
        """Whether a message of this campaign may be handed to a server now."""
        return not self.stopping and not self._held[campaign_id] and self.statuses.get(campaign_id) == SENDING

    def saw(self, campaign_id: int, status: str) -> None:
        """The campaign's status as just read from the database (or decided here)."""
        self.statuses[campaign_id] = status
        if not self.sending(campaign_id):
            self._stop(campaign_id)
        if status in FINAL:
            del self.statuses[campaign_id]

    @contextlib.contextmanager
    def held(self, campaign_id: int) -> Iterator[None]:
        """Within the block this process's batches of the campaign stop, and new ones wait."""
        self._held[campaign_id] += 1
        self._unheld.setdefault(campaign_id, asyncio.Event())
        try:
            self._stop(campaign_id)
            yield
        finally:
            self._held[campaign_id] -= 1
            if not self._held[campaign_id]:
                del self._held[campaign_id]
                self._unheld.pop(campaign_id).set()

    async def unheld(self, campaign_id: int) -> None:
        """Wait until no block of `held` holds the campaign (then read its status afresh)."""
        if (released := self._unheld.get(campaign_id)) is not None:
            await released.wait()

    def stop_everything(self) -> None:
        """The worker is stopping: every batch in this process gives back what it has not sent."""
        self.stopping = True
        for campaign_id in list(self._stoppers):
            self._stop(campaign_id)

    def _stop(self, campaign_id: int) -> None:
        for callback in list(self._stoppers.get(campaign_id, ())):
            callback()

    @contextlib.contextmanager
    def on_stop(self, campaign_id: int, callback: Callable[[], None]) -> Iterator[None]:
        """Within the block, `callback` runs (on the event loop) as soon as sending this campaign
        must stop, or at once if it must already."""
        callbacks = self._stoppers.setdefault(campaign_id, [])
        callbacks.append(callback)
        try:
            if not self.sending(campaign_id):
                callback()
            yield
        finally:
            callbacks.remove(callback)
            if not callbacks:
                del self._stoppers[campaign_id]

    @contextlib.contextmanager
    def opt_outs(self) -> Iterator[OptOuts]:
        """The opt-outs notified within the block. A batch enters it before its claim reads who may
        be mailed, so each later opt-out reaches it either through that read or through this."""
        seen = OptOuts()
        self._opt_outs.append(seen)
        try:
            yield seen
        finally:
            self._opt_outs.remove(seen)

    def start(self) -> None:
        """Listen from now on, on the running event loop (once per process and loop)."""
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._ready = asyncio.Event()
            self._task = loop.create_task(self._listen(self._ready))

    async def ready(self) -> None:
        """Wait until this process first listens, at most READY_SECONDS and only once: a batch that
        claims while nobody listens (then, or while the connection is made again) looks again at all
        its contacts when somebody does."""
        if self._ready is not None and not self._ready.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), READY_SECONDS)
            self._ready.set()

    def _notified(self, channel: str, payload: str) -> None:
        if channel == SERVERS_CHANNEL:
            self._servers_changed()
            return
        if channel == OPT_OUTS_CHANNEL:
            for seen in self._opt_outs:
                if payload == "*":
                    seen.everyone = True
                else:
                    seen.contact_ids.add(int(payload))
            return
        campaign_id, _, status = payload.partition(" ")
        if int(campaign_id) in self.statuses or int(campaign_id) in self._stoppers:
            self.saw(int(campaign_id), status)

    async def _listen(self, ready: asyncio.Event) -> None:
        reconnecting = False
        while True:
            try:
                async with get_engine().connect() as conn:
                    await conn.execution_options(isolation_level="AUTOCOMMIT")
                    await queries.listen(conn, (CAMPAIGNS_CHANNEL, SERVERS_CHANNEL, OPT_OUTS_CHANNEL))
                    driver = (await conn.get_raw_connection()).driver_connection
                    assert driver is not None
                    for seen in self._opt_outs:  # claimed while nobody listened: an opt-out may have been missed
                        seen.everyone = True
                    ready.set()
                    if reconnecting:
                        self._servers_changed()  # they may have changed while nobody listened
                    while True:
                        if self.statuses:
                            for campaign_id, status in await queries.campaign_statuses(conn, list(self.statuses)):
                                self.saw(campaign_id, status)
                        async for note in driver.notifies(timeout=POLL_SECONDS):
                            self._notified(note.channel, note.payload)
            except Exception:
                log.warning("lost the database connection that tells this worker about changes", exc_info=True)
                reconnecting = True
                await asyncio.sleep(RETRY_SECONDS)


watch = Watch()
