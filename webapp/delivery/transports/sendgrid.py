"""SendGrid's v3 mail send (/v3/mail/send; bearer API key). SendGrid takes fields, not MIME, and
one content for a whole request, so a batch shares its content as substitution tags and each
message's subject and bodies are its personalization's substitutions, where they fit SendGrid's
10,000 bytes per personalization; a larger message goes in a request of its own. The reply is
202 for the whole request, with its X-Message-Id: the provider's id of every message in it (its
reports add a part of their own after it, in sg_message_id)."""

from __future__ import annotations

import re
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


PERSONALIZATION_FIELD = re.compile(r"^personalizations\.(\d+)\b")


class BadPersonalizations(PermanentFailure):
    """SendGrid refused the request for these personalizations (positions in the request)."""

    def __init__(self, message: str, positions: set[int]) -> None:
        super().__init__(message, mailbox_refused=False)
        self.positions = positions


def _bad_personalizations(response: httpx.Response) -> set[int]:
    try:
        errors = response.json().get("errors", [])
    except ValueError:
        return set()
    found = (PERSONALIZATION_FIELD.match(str(e.get("field") or "")) for e in errors if isinstance(e, dict))
    return {int(m.group(1)) for m in found if m}


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
        results: list[Result] = [""] * len(batch)  # each set by its group's request
        for indexes in requests.values():
            await self._send_group(http, batch, parts, indexes, results)
        return results

    async def _send_group(
        self,
        http: httpx.AsyncClient,
        batch: Sequence[Outgoing],
        parts: list[Parts],
        indexes: list[int],
        results: list[Result],
    ) -> None:
        """One request for these messages. SendGrid refuses a whole request for one bad
        personalization, naming it (field "personalizations.N..."): those are refused and the
        others sent again, once."""
        for last_try in (False, True):
            try:
                message_id = await self._post(
                    http, self._request([batch[i] for i in indexes], [parts[i] for i in indexes])
                )
                for i in indexes:
                    results[i] = message_id
                return
            except BadPersonalizations as exc:
                positions = {p for p in exc.positions if p < len(indexes)}
                if last_try or not positions or len(positions) == len(indexes):
                    failure: Exception = exc
                else:
                    for position in positions:
                        results[indexes[position]] = PermanentFailure(str(exc), mailbox_refused=False)
                    indexes = [i for n, i in enumerate(indexes) if n not in positions]
                    continue
            except (ServerDown, TransientFailure, PermanentFailure, InDoubt) as exc:
                failure = exc
            for i in indexes:
                results[i] = failure
            return

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

    async def _post(self, http: httpx.AsyncClient, body: dict[str, Any]) -> str:
        """The request's X-Message-Id once SendGrid took it."""
        response = await call(http, "POST", self.base_url + "/v3/mail/send", json=body, headers=self.headers)
        if response.status_code == 400 and (positions := _bad_personalizations(response)):
            raise BadPersonalizations(f"{self.target.name}: {reply_text(response)}", positions)
        if response.status_code != 202:
            raise request_failure(response, self.target.name)
        return str(response.headers.get("x-message-id", ""))

    async def check(self, http: httpx.AsyncClient) -> str:
        response = await call(http, "GET", self.base_url + "/v3/scopes", headers=self.headers)
        if response.status_code != 200:
            raise ServerDown(reply_text(response))
        if "mail.send" not in response.json().get("scopes", []):
            raise ServerDown("The API key is valid but may not send mail (it lacks the mail.send scope).")
        return "Signed in to SendGrid: the API key may send mail."
