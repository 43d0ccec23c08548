"""Postmark's batch API (/email/batch, up to 500 messages a request): an answer per message, in
order, with an ErrorCode (0: taken; 406: the recipient is inactive, it hard bounced or complained)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
    reply_text,
    request_failure,
)
from webapp.delivery.transports.mime_parts import parts_of

BASE_URL = "https://api.postmarkapp.com"
INACTIVE_RECIPIENT = 406
RATE_LIMITED = 429
THROTTLED_SECONDS = 60.0
# Request errors (HTTP 422) that mean the account cannot send now: not allowed to send, pending, may not send.
ACCOUNT_ERRORS = frozenset({405, 412, 413})


class PostmarkClient:
    max_batch = 500

    def __init__(self, target: ProviderTarget) -> None:
        self.target = target
        self.base_url = str(target.settings.get("base_url") or BASE_URL)
        self.stream = str(target.settings.get("message_stream") or "broadcast")
        self.headers = {
            "Accept": "application/json",
            "X-Postmark-Server-Token": target.credentials.get("server_token", ""),
        }

    def _message(self, item: Outgoing) -> dict[str, Any]:
        parts = parts_of(item.message)
        message: dict[str, Any] = {
            "From": f'"{parts.from_name}" <{parts.from_email}>' if parts.from_name else parts.from_email,
            "To": item.recipient,
            "Subject": parts.subject,
            "TextBody": parts.text,
            "HtmlBody": parts.html,
            "Headers": [{"Name": name, "Value": value} for name, value in parts.headers],
            "MessageStream": self.stream,
            "TrackOpens": False,  # Mailroom tracks opens and clicks itself
            "TrackLinks": "None",
        }
        if parts.reply_to:
            message["ReplyTo"] = parts.reply_to
        return message

    async def send(self, http: httpx.AsyncClient, batch: Sequence[Outgoing]) -> list[Result]:
        response = await call(
            http, "POST", self.base_url + "/email/batch", json=[self._message(i) for i in batch], headers=self.headers
        )
        if response.status_code != 200:
            raise self._failure(response)
        return [self._result(answer) for answer in response.json()]

    def _result(self, answer: dict[str, Any]) -> Result:
        code, text = (
            answer.get("ErrorCode", 0),
            f"{self.target.name}: {answer.get('ErrorCode')} {answer.get('Message', '')}",
        )
        if code == 0:
            return str(answer.get("MessageID") or "")
        if code == RATE_LIMITED:
            return QuotaSpent(text, THROTTLED_SECONDS)
        return PermanentFailure(text, mailbox_refused=code == INACTIVE_RECIPIENT)

    def _failure(self, response: httpx.Response) -> Exception:
        if response.status_code == 422:
            code = _error_code(response)
            text = f"{self.target.name}: {code} {_error_message(response)}"
            if code in ACCOUNT_ERRORS:
                return ServerDown(text)
            return PermanentFailure(text, mailbox_refused=False)
        return request_failure(response, self.target.name)

    async def check(self, http: httpx.AsyncClient) -> str:
        response = await call(http, "GET", self.base_url + "/server", headers=self.headers)
        if response.status_code != 200:
            raise ServerDown(reply_text(response))
        return (
            f"Signed in to Postmark server “{response.json().get('Name', '')}”; messages go to stream “{self.stream}”."
        )


def _error_code(response: httpx.Response) -> int:
    try:
        return int(response.json().get("ErrorCode", 0))
    except (ValueError, TypeError):
        return 0


def _error_message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("Message", ""))[:MAX_ERROR_TEXT]
    except ValueError:
        return body_text(response)
