from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.spamd import Spamd


@pytest.fixture(scope="module")
def spamd() -> Iterator[Spamd]:
    """One real spamd per test module (it takes a while to compile its rules)."""
    with Spamd() as server:
        yield server
