"""A mailbox provider for the inbox placement tests: an SMTP server (aiosmtpd) that takes mail for
the seed addresses, verifies its DKIM signature against the organisation's key as a provider's
MTA would against DNS, writes the verdicts into an Authentication-Results header on top, and
files the message into the seed's IMAP mailbox (a real Dovecot) in the folder its filter chooses:
the provider's spam filtering is the edge these tests control."""

from __future__ import annotations

from collections.abc import Callable

import dkim

from tests.support.dovecot import Dovecot
from tests.support.smtp import RecordingHandler, SmtpSink

AUTHSERV_ID = "mx.seeds.test"


class SeedProvider(RecordingHandler):
    def __init__(
        self,
        dovecot: Dovecot,
        dkim_record: str,
        folder_for: Callable[[str], str | None] = lambda recipient: "INBOX",
        spf: str = "pass",
    ) -> None:
        super().__init__()
        self.dovecot, self.dkim_record, self.folder_for, self.spf = dovecot, dkim_record, folder_for, spf

    def _dns(self, name: bytes, timeout: int = 5) -> bytes | None:
        return self.dkim_record.encode() if name.startswith(b"mailroom._domainkey.") else None

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        signed = dkim.verify(envelope.content, dnsfunc=self._dns) if self.dkim_record else False
        verdict = "pass" if signed else "fail"
        dmarc = "pass" if signed or self.spf == "pass" else "fail"
        stamp = (
            f"Authentication-Results: {AUTHSERV_ID};\r\n dkim={verdict} (signature checked) header.d=example.com;\r\n"
            f" spf={self.spf} (sender checked) smtp.mailfrom={envelope.mail_from};\r\n"
            f" dmarc={dmarc} header.from=example.com\r\n"
        )
        for recipient in envelope.rcpt_tos:
            if folder := self.folder_for(recipient):  # None: the provider lost it
                self.dovecot.file(folder, stamp.encode() + envelope.content)
        return reply


def seed_provider(dovecot: Dovecot, dkim_record: str = "", **options) -> SmtpSink:
    return SmtpSink(handler=SeedProvider(dovecot, dkim_record, **options))
