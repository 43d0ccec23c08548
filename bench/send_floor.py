"""The least CPU one signed campaign message can cost on this machine, against what send_ratio 0.35 allows.

bench/send.py's campaign (same template, contacts, DKIM key) is prepared by the worker's own code,
then each stage every message must pass through runs in this one process over BENCH_FLOOR_MESSAGES
(20,000) recipients, one stage at a time: the recipient's links and tokens, the template render,
the MIME bytes, DKIM's canonicalisation and hashing, and its RSA signature. Their sum is a floor:
no renderer processes, no database, no SMTP, no routing, no event loop.

The budget is the CPU a message may use, all cores together, for the whole machine (worker,
PostgreSQL, Redis, smtp-sink, kernel) to send at send_ratio 0.35 of smtp-source's reference rate
measured here in the same run. Needs the Debian package postfix, as bench/send.py does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from _common import services
from send import SINK, SOURCE, Sink, arrange, reference_rate

MESSAGES = int(os.environ.get("BENCH_FLOOR_MESSAGES", "20000"))
TARGET_RATIO = 0.35  # issue 12's send_ratio target
T = TypeVar("T")


def timed(each: Callable[[Any], T], items: list[Any]) -> tuple[list[T], float]:
    """each(item) for every item, and the process's CPU milliseconds an item it took."""
    start = time.process_time()
    results = [each(item) for item in items]
    return results, 1000 * (time.process_time() - start) / len(items)


async def prepared() -> tuple[Any, list[Any], Callable[[bytes], bytes]]:
    """The bench campaign as the worker prepares it, its contacts, and a signer's bare RSA call."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    from webapp.campaigns.models import Campaign
    from webapp.core.db import get_sessionmaker
    from webapp.delivery import queries as deliveries
    from webapp.delivery.pipeline import prepared_campaign
    from webapp.settings.service import organisation as org_settings

    sink = Sink()  # only for the SMTP server row bench/send.py's campaign is set up with
    try:
        campaign_id = await arrange(sink.port)
    finally:
        sink.stop()
    async with get_sessionmaker()() as session:
        campaign = await session.get(Campaign, campaign_id)
        assert campaign is not None
        prepared = await prepared_campaign(session, campaign)
        contacts = await deliveries.contacts_by_id(session, range(1, MESSAGES + 1))
        key = serialization.load_pem_private_key((await org_settings.load(session)).dkim_private_key.encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey)

    def rsa_only(data: bytes) -> bytes:
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    return prepared, list(contacts.values()), rsa_only


def main() -> None:
    for tool in (SINK, SOURCE):
        if not Path(tool).exists():
            sys.exit(f"{tool} is missing: apt-get install postfix (it provides smtp-sink and smtp-source)")
    from webapp.templates.service.rendering import CompiledMessage, contact_context

    reference = reference_rate(25_000)
    with services():
        campaign, contacts, rsa_only = asyncio.run(prepared())
    unsigned = dataclasses.replace(campaign, signer=None)
    compiled = CompiledMessage.of(campaign.template)
    recipients = list(enumerate(contacts, start=1))  # (delivery id, contact)

    contexts, links_ms = timed(lambda r: contact_context(r[1], campaign.links_for(r[0])), recipients)
    rendered, render_ms = timed(compiled.render, contexts)
    items = [(i, contact, content) for (i, contact), content in zip(recipients, rendered, strict=True)]
    messages, mime_ms = timed(lambda i: unsigned.message(i[0], f"<{i[0]}.bench@example.com>", i[1].email, i[2]), items)
    _, signing_ms = timed(campaign.signer, messages)
    _, rsa_ms = timed(rsa_only, messages)  # the same work as the signer's RSA call: it hashes what it signs
    floor = links_ms + render_ms + mime_ms + signing_ms
    budget = (os.cpu_count() or 1) * 1000 / (TARGET_RATIO * reference)
    print(f"messages: {len(contacts)}")
    print(f"links_and_tokens_ms_per_msg: {links_ms:.3f}")
    print(f"render_ms_per_msg: {render_ms:.3f}")
    print(f"mime_ms_per_msg: {mime_ms:.3f}")
    print(f"dkim_canonicalise_and_hash_ms_per_msg: {signing_ms - rsa_ms:.3f}")
    print(f"dkim_rsa_ms_per_msg: {rsa_ms:.3f}")
    print(f"floor_ms_per_msg: {floor:.3f}")
    print(f"reference_rate_msgs_per_s: {reference:.0f}")
    print(f"machine_budget_ms_per_msg_at_ratio_{TARGET_RATIO}: {budget:.3f}  ({os.cpu_count()} cores)")
    print(f"left_for_everything_else_ms_per_msg: {budget - floor:.3f}  (database, SMTP, sink, kernel, worker)")


if __name__ == "__main__":
    main()
