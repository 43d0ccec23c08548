"""What providers' replies come to: how long a throttling provider asks to wait, from the headers each
service uses, and a problem named after its transport once."""

from __future__ import annotations

import time
from email.utils import formatdate

import httpx

from webapp.delivery.transports.api import THROTTLED_SECONDS, retry_after


def throttled(**headers: str) -> httpx.Response:
    return httpx.Response(429, headers={k.replace("_", "-"): v for k, v in headers.items()})


def test_retry_after_in_seconds() -> None:
    assert retry_after(throttled(retry_after="120")) == 120


def test_retry_after_as_a_date() -> None:
    wait = retry_after(throttled(retry_after=formatdate(time.time() + 300, usegmt=True)))
    assert 290 <= wait <= 300


def test_sendgrids_rate_limit_reset() -> None:
    wait = retry_after(throttled(x_ratelimit_reset=str(int(time.time()) + 60)))
    assert 50 <= wait <= 60


def test_an_unreadable_or_missing_header_waits_the_default() -> None:
    assert retry_after(throttled(retry_after="soon")) == THROTTLED_SECONDS
    assert retry_after(throttled()) == THROTTLED_SECONDS


def test_a_problem_names_its_transport_once():
    from webapp.delivery.mailer import named

    assert (
        named("SendGrid main", "SendGrid main: authentication failed: 401")
        == "SendGrid main: authentication failed: 401"
    )
    assert named("SendGrid main", "SendGrid main is throttling: slow down") == "SendGrid main is throttling: slow down"
    assert named("Relay", "Cannot connect to 10.0.0.1: Connection refused.") == (
        "Relay: Cannot connect to 10.0.0.1: Connection refused."
    )
