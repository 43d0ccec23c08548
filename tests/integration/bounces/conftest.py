from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.dovecot import Dovecot


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    """One real IMAP/POP3 server per test module (it takes a second or two to start)."""
    with Dovecot() as server:
        yield server


@pytest.fixture
def clean_mailbox(dovecot: Dovecot) -> Iterator[Dovecot]:
    """The module's server, with an empty INBOX after each test."""
    yield dovecot
    dovecot.empty()
