"""Which SMTP refusals say the recipient's mailbox is at fault (a hard bounce: the contact is marked
bounced and the address suppressed) and which are about the server, the sender or the message."""

from __future__ import annotations

import pytest

from webapp.delivery.mailer import mailbox_refused


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (550, "5.1.1 <a@example.com>: Recipient address rejected: User unknown in virtual mailbox table"),
        (550, "5.1.0 Address rejected"),
        (553, "5.1.3 Bad recipient address syntax"),
        (550, "5.1.2 Host or domain name not found"),
        (550, "5.1.6 Mailbox has moved"),
        (556, "5.1.10 Recipient address has null MX"),
        (550, "5.2.1 The email account that you tried to reach is disabled."),
    ],
)
def test_refusals_of_the_mailbox_are_bounces(code: int, message: str) -> None:
    assert mailbox_refused(code, message)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (554, "5.7.1 <a@example.com>: Relay access denied"),
        (550, "5.7.1 Client host rejected: cannot find your hostname"),
        (553, "5.1.8 <news@example.com>: Sender address rejected: Domain not found"),
        (553, "5.1.7 Bad sender's mailbox address syntax"),
        (552, "5.2.2 Mailbox full"),
        (552, "5.3.4 Message too big for system"),
        (554, "5.4.6 Routing loop detected"),
        (550, "No such user here"),  # no enhanced code: the reply says nothing certain
        (450, "4.1.1 Recipient address rejected: try later"),  # not permanent
        (421, "4.3.2 Service not available"),
    ],
)
def test_other_refusals_are_not_bounces(code: int, message: str) -> None:
    assert not mailbox_refused(code, message)
