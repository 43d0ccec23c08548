"""core/isolation.py on its own: each item's CPU limit, the wall-clock backstop for work no signal
interrupts, a process that dies, the memory limit, and a stream that fails half-way."""

from __future__ import annotations

import os
import signal
import time

import pytest

from webapp.core import isolation
from webapp.core.isolation import Failed, Kind, Limits

LIMITS = Limits(cpu_seconds=0.5, memory_mb=64)


def work(state, item):
    if item == "spin":
        while True:
            pass
    if item == "sleep":  # no CPU used: only the parent's wall clock stops it
        time.sleep(3600)
    if item == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    if item == "hog":
        return len(bytearray(200 * 1024 * 1024))
    if item == "raise":
        raise ValueError("no such thing")
    return (state, item, os.getpid())


def upper(text: str) -> str:
    return text.upper()


def count_then_spin(n: int):
    yield from range(n)
    while True:
        pass


def test_each_item_gets_its_own_cpu_limit_and_the_others_go_through():
    pool = isolation.Pool(LIMITS, processes=1)
    first, spun, hogged, raised, last = pool.map(work, ["a", "spin", "hog", "raise", "b"], setup=upper, shared="s")
    assert first[:2] == ("S", "a") and last[:2] == ("S", "b")
    assert spun == Failed(Kind.TIME) and hogged == Failed(Kind.MEMORY)
    assert raised == Failed(Kind.ERROR, "no such thing", "ValueError")


@pytest.mark.parametrize("over", ["spin", "hog"])
def test_a_process_that_went_over_a_limit_is_replaced_and_one_that_raised_is_kept(over):
    """A limit stops the work wherever it was (a heap left grown, a library half-way through), so
    that process serves nothing more; an exception is the work's own business."""
    pool = isolation.Pool(LIMITS, processes=1)
    before, _, after, raised, last = pool.map(work, ["a", over, "b", "raise", "c"])
    assert raised.kind is Kind.ERROR and before[2] != after[2] == last[2]


def test_a_process_stuck_where_no_signal_reaches_is_killed_and_replaced():
    pool = isolation.Pool(LIMITS, processes=1)
    before, stuck, after = pool.map(work, ["a", "sleep", "b"])
    assert stuck == Failed(Kind.TIME) and before[2] != after[2]


def test_a_process_that_dies_fails_only_its_item():
    pool = isolation.Pool(LIMITS, processes=1)
    before, died, after = pool.map(work, ["a", "die", "b"])
    assert died == Failed(Kind.CRASH, "The process stopped by SIGKILL.") and (before[1], after[1]) == ("a", "b")


def test_a_stream_yields_until_its_process_fails():
    seen: list[int] = []
    with pytest.raises(isolation.Failure) as failed:
        seen.extend(isolation.stream(count_then_spin, 2500, limits=LIMITS, chunk=1000))
    assert failed.value.failed.kind is Kind.TIME and seen == list(range(2000))  # the last chunk never came
