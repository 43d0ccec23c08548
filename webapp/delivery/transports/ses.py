"""Amazon SES API v2 (SendEmail with raw content, one message per request; SigV4-signed). Its
errors come as the x-amzn-ErrorType header with a JSON {"message"}."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import httpx

from webapp.delivery.mailer import PermanentFailure
from webapp.delivery.smtp_session import QuotaSpent, ServerDown
from webapp.delivery.transports.api import (
    MAX_ERROR_TEXT,
    Outgoing,
    ProviderTarget,
    Result,
    body_text,
    call,
    reply_field,
    reply_text,
    request_failure,
)
from webapp.delivery.transports.sigv4 import signed_headers

SEND_PATH = "/v2/email/outbound-emails"
ACCOUNT_PATH = "/v2/email/account"
ACCOUNT_PAUSED_SECONDS = 300.0
QUOTA_SECONDS = 60.0
# The account cannot send now (another transport may): suspended, paused, an unverified MAIL FROM.
ACCOUNT_ERRORS = frozenset(
    {"AccountSuspendedException", "SendingPausedException", "MailFromDomainNotVerifiedException"}
)


class SesClient:
    max_batch = 1

    def __init__(self, target: ProviderTarget) -> None:
        self.target = target
        self.region = str(target.settings.get("region") or "us-east-1")
        self.base_url = str(target.settings.get("base_url") or f"https://email.{self.region}.amazonaws.com")

    def _signed(self, method: str, path: str, body: bytes) -> dict[str, str]:
        headers = {"content-type": "application/json"} if body else {}
        return signed_headers(
            method,
            self.base_url + path,
            body,
            access_key=self.target.credentials.get("access_key_id", ""),
            secret_key=self.target.credentials.get("secret_access_key", ""),
            region=self.region,
            service="ses",
            now=datetime.now(UTC),
            headers=headers,
        )

    async def send(self, http: httpx.AsyncClient, batch: Sequence[Outgoing]) -> list[Result]:
        (item,) = batch
        request: dict[str, object] = {
            "Destination": {"ToAddresses": [item.recipient]},
            "Content": {"Raw": {"Data": base64.b64encode(item.message).decode("ascii")}},
        }
        if configuration_set := self.target.settings.get("configuration_set"):
            request["ConfigurationSetName"] = configuration_set
        body = json.dumps(request).encode()
        response = await call(
            http, "POST", self.base_url + SEND_PATH, content=body, headers=self._signed("POST", SEND_PATH, body)
        )
        if response.status_code == 200:
            return [reply_field(response, "MessageId")]
        raise self._failure(response)

    def _failure(self, response: httpx.Response) -> Exception:
        error_type = response.headers.get("x-amzn-errortype", "").split(":")[0]
        text = f"{self.target.name}: {error_type or response.status_code}: {_message(response)}"
        if error_type == "LimitExceededException":  # the account's sending quota
            return QuotaSpent(text, QUOTA_SECONDS)
        if error_type in ACCOUNT_ERRORS:
            return ServerDown(text, ACCOUNT_PAUSED_SECONDS)
        if error_type == "MessageRejected":
            return PermanentFailure(text, mailbox_refused=False)
        return request_failure(response, self.target.name)

    async def check(self, http: httpx.AsyncClient) -> str:
        response = await call(http, "GET", self.base_url + ACCOUNT_PATH, headers=self._signed("GET", ACCOUNT_PATH, b""))
        if response.status_code != 200:
            raise ServerDown(f"{reply_text(response)}")
        account = response.json()
        quota = account.get("SendQuota", {})
        enabled = "enabled" if account.get("SendingEnabled") else "PAUSED"
        return (
            f"Signed in to Amazon SES ({self.region}): sending {enabled}, "
            f"{quota.get('SentLast24Hours', 0):g} of {quota.get('Max24HourSend', 0):g} sent in 24 hours, "
            f"at most {quota.get('MaxSendRate', 0):g} a second."
        )


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("message", ""))[:MAX_ERROR_TEXT]
    except ValueError:
        return body_text(response)
