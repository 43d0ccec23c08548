"""Work on what people supply (the templates they write, the files they upload) runs in other
processes under hard limits of CPU time and memory, so none of it can stall the web server's event
loop, take the memory of the web or worker process, or hang a worker.

- `Pool`: a few long-lived processes for work done often (rendering). `map` runs one function over
  a batch of items in one of them, each item under the CPU limit, after an optional set-up
  (compiling a template) under a limit of its own, which the child may cache between calls.
  Results come back item by item, so a process that has to be killed loses only the item it was on.
  A process that went over a limit is replaced before the next item: the limit stopped it wherever
  it was, and a heap grown to the memory limit would fail whatever came next.
- `stream`: a one-off process running a generator (reading an uploaded file) under a CPU limit for
  the whole run; the caller iterates over what it yields.

Memory is the address space a process may add to what it had when it started (RLIMIT_AS): going
over it is a MemoryError in the child. CPU time is counted by an interval timer (ITIMER_PROF) whose
signal stops the work with an exception. The parent kills a process that sends nothing for a while
(work stuck where no signal interrupts it, in C code). A limit hit is a `Failed` result, never an
exception in the caller's process. Processes are forked from a fork server that has imported the
modules named with `preload`, so starting one costs a fork, not an interpreter start-up.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import os
import pickle
import queue
import resource
import signal
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from typing import Any

import anyio

from webapp.core.errors import InputRefused

log = logging.getLogger("mailroom.isolation")

MB = 1 << 20
WALL_FACTOR, WALL_GRACE_SECONDS = 3, 5.0  # the parent waits this long for what has a CPU limit of 1 s
GIVE_UP_AFTER = 3  # items in a row over a limit: the rest of the batch is not tried
_preload: set[str] = set()


class Kind(Enum):
    TIME = "time"  # over the CPU time limit, or stuck
    MEMORY = "memory"
    CRASH = "crash"  # the process died
    ERROR = "error"  # the work raised an exception
    SKIPPED = "skipped"  # not tried: the items before it kept going over a limit


@dataclass(frozen=True)
class Failed:
    kind: Kind
    message: str = ""  # ERROR: the exception's text; CRASH: how the process ended
    error: str = ""  # ERROR: the exception's class name

    @property
    def over_limit(self) -> bool:
        return self.kind in (Kind.TIME, Kind.MEMORY, Kind.CRASH)


@dataclass(frozen=True)
class Limits:
    cpu_seconds: float  # per item (Pool), for the whole run (stream)
    memory_mb: int  # address space a process may add to its own at start
    setup_cpu_seconds: float = 0.0  # Pool: for the set-up of a batch (0: as for an item)

    @staticmethod
    def wall_seconds(cpu_seconds: float) -> float:
        return cpu_seconds * WALL_FACTOR + WALL_GRACE_SECONDS


class Failure(Exception):
    """What `stream` raises when its process failed."""

    def __init__(self, failed: Failed) -> None:
        super().__init__(failed.message or failed.kind.value)
        self.failed = failed


def preload(module: str) -> None:
    """Have the fork server import `module`; call it at import time, before any process starts."""
    _preload.add(module)


def _context() -> ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(sorted(_preload))  # takes effect when the server starts
    return context


# ---- in the child ----------------------------------------------------------------------------


class _OverTime(BaseException):
    """Raised by the CPU timer's signal; a BaseException, so `except Exception` in the work lets it by."""


def _on_cpu_timer(signum: int, frame: object) -> None:
    raise _OverTime


def _enter_child(memory_mb: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent decides
    signal.signal(signal.SIGPROF, _on_cpu_timer)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGPROF})
    with open("/proc/self/statm") as statm:
        own = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = own + memory_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _timed(seconds: float, fn: Callable[..., Any], *args: Any) -> Any:
    """fn(*args), or a Failed when it goes over `seconds` of CPU time or the memory limit, or raises."""
    try:
        signal.setitimer(signal.ITIMER_PROF, seconds)
        try:
            return fn(*args)
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
    except _OverTime:
        return Failed(Kind.TIME)
    except MemoryError:
        return Failed(Kind.MEMORY)
    except InputRefused as exc:  # the person's input, told to them: nothing for the log
        return Failed(Kind.ERROR, str(exc), exc.__class__.__name__)
    except Exception as exc:
        log.warning("isolated work failed", exc_info=True)
        return Failed(Kind.ERROR, str(exc), exc.__class__.__name__)


def _serve(conn: Connection, limits: Limits) -> None:
    _enter_child(limits.memory_mb)
    while True:
        try:
            setup, shared, fn, items = conn.recv()
        except (EOFError, OSError):
            return  # the parent has gone
        state = _timed(limits.setup_cpu_seconds or limits.cpu_seconds, setup, shared) if setup else shared
        for item in items:
            conn.send(state if isinstance(state, Failed) else _timed(limits.cpu_seconds, fn, state, item))


def _stream(conn: Connection, limits: Limits, chunk: int, fn: Callable[..., Iterable[Any]], args: tuple[Any]) -> None:
    _enter_child(limits.memory_mb)

    def run() -> None:
        batch = []
        for item in fn(*args):
            batch.append(item)
            if len(batch) >= chunk:
                conn.send(batch)
                batch = []
        if batch:
            conn.send(batch)

    conn.send(_timed(limits.cpu_seconds, run))  # None: the end


# ---- in the parent ---------------------------------------------------------------------------


class _Child:
    def __init__(self, target: Callable[..., None], *args: Any) -> None:
        context = _context()
        self.conn, theirs = context.Pipe()
        self.process = context.Process(target=target, args=(theirs, *args), daemon=True, name="mailroom-isolated")
        self.process.start()
        theirs.close()

    @property
    def alive(self) -> bool:
        return not self.conn.closed and self.process.is_alive()

    def receive(self, seconds: float) -> Any:
        """What the process sends next; Failed (and the process stopped) if it sends nothing in time or dies."""
        try:
            if self.conn.poll(seconds):
                return self.conn.recv()
        except (EOFError, OSError, pickle.UnpicklingError):
            self.stop()
            code = self.process.exitcode or 0
            ending = f"stopped by {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
            return Failed(Kind.CRASH, f"The process {ending}.")
        self.stop()
        return Failed(Kind.TIME)

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()


class Pool:
    """`processes` long-lived processes, started when first needed; `map` uses one at a time."""

    def __init__(self, limits: Limits, processes: int = 2) -> None:
        self.limits = limits
        self._idle: queue.SimpleQueue[_Child | None] = queue.SimpleQueue()
        for _ in range(processes):
            self._idle.put(None)

    def map(
        self,
        fn: Callable[[Any, Any], Any],
        items: Sequence[Any],
        *,
        setup: Callable[[Any], Any] | None = None,
        shared: Any = None,
    ) -> list[Any]:
        """fn(setup(shared), item) for each item, in order: its value or a Failed. Blocks the thread."""
        results: list[Any] = []
        child, clean = self._idle.get(), False
        try:
            while len(results) < len(items) and not _giving_up(results):
                if child is None or not child.alive:
                    child = _Child(_serve, self.limits)
                child = self._run(child, (setup, shared, fn, items[len(results) :]), results, len(items))
            clean = True
        finally:
            if child is not None and not (clean and len(results) == len(items)):
                child.stop()  # still at work on items nobody will read
                child = None
            self._idle.put(child)
        return results + [Failed(Kind.SKIPPED)] * (len(items) - len(results))

    def _run(self, child: _Child, task: tuple[Any, ...], results: list[Any], total: int) -> _Child | None:
        """Send the task and collect its results until done, a limit streak, or the child is lost."""
        try:
            child.conn.send(task)
        except OSError:  # it died while idle
            child.stop()
            return None
        wait = self.limits.wall_seconds(self.limits.setup_cpu_seconds + self.limits.cpu_seconds)
        while len(results) < total and not _giving_up(results):
            results.append(got := child.receive(wait))
            if isinstance(got, Failed) and got.over_limit:
                child.stop()
                return None
            if not child.alive:
                return None
            wait = self.limits.wall_seconds(self.limits.cpu_seconds)
        return child

    async def amap(
        self,
        fn: Callable[[Any, Any], Any],
        items: Sequence[Any],
        *,
        setup: Callable[[Any], Any] | None = None,
        shared: Any = None,
    ) -> list[Any]:
        """`map` from async code, waiting in a thread so the event loop carries on."""
        return await anyio.to_thread.run_sync(functools.partial(self.map, fn, items, setup=setup, shared=shared))


def _giving_up(results: list[Any]) -> bool:
    recent = results[-GIVE_UP_AFTER:]
    return len(recent) == GIVE_UP_AFTER and all(isinstance(r, Failed) and r.over_limit for r in recent)


def stream(fn: Callable[..., Iterable[Any]], *args: Any, limits: Limits, chunk: int = 1000) -> Generator[Any]:
    """What `fn(*args)` yields, run in a process of its own; Failure if that process fails. Closing
    the iterator early stops the process."""
    child = _Child(_stream, limits, chunk, fn, args)
    try:
        while True:
            got = child.receive(limits.wall_seconds(limits.cpu_seconds))
            if isinstance(got, Failed):
                raise Failure(got)
            if got is None:
                return
            yield from got
    finally:
        child.stop()
