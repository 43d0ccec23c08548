"""Mailgun's messages API with the MIME message as it is (/v3/<domain>/messages.mime, one message
a request; HTTP basic auth as "api" with the API key). US or EU region."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from webapp.delivery.smtp_session import ServerDown
from webapp.delivery.transports.api import (
    Outgoing,
    ProviderTarget,
    Result,
    call,
    reply_field,
    reply_text,
    request_failure,
)

REGIONS = {"us": "https://api.mailgun.net", "eu": "https://api.eu.mailgun.net"}


class MailgunClient:
    max_batch = 1

    def __init__(self, target: ProviderTarget) -> None:
        self.target = target
        self.domain = str(target.settings.get("domain", ""))
        region = str(target.settings.get("region") or "us")
        self.base_url = str(target.settings.get("base_url") or REGIONS.get(region, REGIONS["us"]))
        self.auth = httpx.BasicAuth("api", target.credentials.get("api_key", ""))

    async def send(self, http: httpx.AsyncClient, batch: Sequence[Outgoing]) -> list[Result]:
        (item,) = batch
        response = await call(
            http,
            "POST",
            f"{self.base_url}/v3/{self.domain}/messages.mime",
            data={"to": item.recipient},
            files={"message": ("message.mime", item.message, "application/octet-stream")},
            auth=self.auth,
        )
        if response.status_code == 200:
            return [reply_field(response, "id")]  # "<...@domain>"; its reports quote it without the brackets
        raise request_failure(response, self.target.name)

    async def check(self, http: httpx.AsyncClient) -> str:
        response = await call(http, "GET", f"{self.base_url}/v3/domains/{self.domain}", auth=self.auth)
        if response.status_code != 200:
            raise ServerDown(reply_text(response))
        state = response.json().get("domain", {}).get("state", "unknown")
        return f"Signed in to Mailgun: the domain {self.domain} is {state}."
