from __future__ import annotations

from tests.integration.bounces.conftest import clean_mailbox, dovecot

__all__ = ["clean_mailbox", "dovecot"]
