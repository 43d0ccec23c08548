"""The API client of each provider kind, and the Test button's authenticated call that sends nothing."""

from __future__ import annotations

from collections.abc import Callable

from webapp.core.checked_http import checked_client
from webapp.delivery.mailer import InDoubt
from webapp.delivery.smtp_session import ServerDown
from webapp.delivery.transports.api import TIMEOUT, ApiClient, ProviderTarget
from webapp.delivery.transports.mailgun import MailgunClient
from webapp.delivery.transports.postmark import PostmarkClient
from webapp.delivery.transports.sendgrid import SendgridClient
from webapp.delivery.transports.ses import SesClient
from webapp.providers.service import REFUSED

CLIENTS: dict[str, Callable[[ProviderTarget], ApiClient]] = {
    "ses": SesClient,
    "sendgrid": SendgridClient,
    "postmark": PostmarkClient,
    "mailgun": MailgunClient,
}


def client_for(target: ProviderTarget) -> ApiClient:
    return CLIENTS[target.kind](target)


async def check(target: ProviderTarget) -> str:
    """What the provider's API said to an authenticated call; ServerDown saying what is wrong."""
    async with checked_client(allow_private=target.allow_private, refused=REFUSED, timeout=TIMEOUT) as http:
        try:
            return await client_for(target).check(http)
        except (InDoubt, ValueError) as exc:  # broke off, or an answer that is not the API's
            raise ServerDown(f"The API did not answer as expected: {exc}") from exc
