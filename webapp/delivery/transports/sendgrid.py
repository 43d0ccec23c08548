"""SendGrid's v3 mail send (/v3/mail/send; bearer API key). SendGrid takes fields, not MIME, and
one content for a whole request, so a batch shares its content as substitution tags and each
message's subject and bodies are its personalization's substitutions, where they fit SendGrid's
10,000 bytes per personalization; a larger message goes in a request of its own. The reply is
202 for the whole request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from webapp.delivery.mailer import InDoubt, PermanentFailure, TransientFailure
from webapp.delivery.smtp_session import ServerDown
from webapp.delivery.transports.api import Outgoing, ProviderTarget, Result, call, reply_text, request_failure
from webapp.delivery.transports.mime_parts import Parts, parts_of

BASE_URL = "https://api.sendgrid.com"
SUBSTITUTIONS_LIMIT = 10_000  # bytes of substitutions per personalization
SUBJECT, TEXT, HTML = "-mailroom-subject-", "-mailroom-text-", "-mailroom-html-"


def _fits(parts: Parts) -> bool:
    values = (SUBJECT, parts.subject, TEXT, parts.text, HTML, parts.html)
    return sum(len(v.encode()) for v in values) <= SUBSTITUTIONS_LIMIT


class SendgridClient:
    max_batch = 1000  # personalizations per request

    def __init__(self, target: ProviderTarget) -> None:
        self.target = target
        self.base_url = str(target.settings.get("base_url") or BASE_URL)
        self.headers = {"Authorization": f"Bearer {target.credentials.get('api_key', '')}"}

    async def send(self, http: httpx.AsyncClient, batch: Sequence[Outgoing]) -> list[Result]:
        parts = [parts_of(item.message) for item in batch]
        requests: dict[tuple[str, ...], list[int]] = {}
        for n, p in enumerate(parts):  # shared content needs the same sender; a large message goes alone
            key = (p.from_email, p.from_name, p.reply_to) if _fits(p) else ("alone", str(n))
            requests.setdefault(key, []).append(n)
        results: list[Result] = [None] * len(batch)
        for indexes in requests.values():
            body = self._request([batch[i] for i in indexes], [parts[i] for i in indexes])
            try:
                await self._post(http, body)
            except (ServerDown, TransientFailure, PermanentFailure, InDoubt) as exc:
                for i in indexes:
                    results[i] = exc
        return results

    def _request(self, items: list[Outgoing], parts: list[Parts]) -> dict[str, Any]:
        shared = len(items) > 1
        first = parts[0]
        subject, text, html = (SUBJECT, TEXT, HTML) if shared else (first.subject, first.text, first.html)
        personalizations = []
        for item, p in zip(items, parts, strict=True):
            personalization: dict[str, Any] = {"to": [{"email": item.recipient}], "headers": dict(p.headers)}
            if shared:
                personalization["substitutions"] = {SUBJECT: p.subject, TEXT: p.text, HTML: p.html}
            personalizations.append(personalization)
        request: dict[str, Any] = {
            "personalizations": personalizations,
            "from": {"email": first.from_email} | ({"name": first.from_name} if first.from_name else {}),
            "subject": subject,
            "content": [{"type": "text/plain", "value": text}, {"type": "text/html", "value": html}],
            # Mailroom tracks opens and clicks itself
            "tracking_settings": {"click_tracking": {"enable": False}, "open_tracking": {"enable": False}},
        }
        if first.reply_to:
            request["reply_to"] = {"email": first.reply_to}
        return request

    async def _post(self, http: httpx.AsyncClient, body: dict[str, Any]) -> None:
        response = await call(http, "POST", self.base_url + "/v3/mail/send", json=body, headers=self.headers)
        if response.status_code != 202:
            raise request_failure(response, self.target.name)

    async def check(self, http: httpx.AsyncClient) -> str:
        response = await call(http, "GET", self.base_url + "/v3/scopes", headers=self.headers)
        if response.status_code != 200:
            raise ServerDown(reply_text(response))
        if "mail.send" not in response.json().get("scopes", []):
            raise ServerDown("The API key is valid but may not send mail (it lacks the mail.send scope).")
        return "Signed in to SendGrid: the API key may send mail."
