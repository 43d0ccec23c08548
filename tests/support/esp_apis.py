"""Local HTTP servers that implement the API providers' documented request and reply shapes, for
tests (never the real services): Amazon SES v2 (SigV4-checked SendEmail with raw content,
GetAccount), SendGrid v3 (mail/send with personalizations and substitutions, scopes), Postmark
(email/batch with an answer per message, server) and Mailgun (messages.mime, domains).

Each checks its authentication the way its service does and records every message it took. A test
can script the next replies to sending requests (throttling with Retry-After, 5xx, a whole-request
error, or DROP: read the request, take its messages, and close the connection without answering,
as when a reply is lost), and name addresses the API refuses (Postmark's per-message 406 for an
inactive recipient, SendGrid's 400 naming the personalization).
"""

from __future__ import annotations

import base64
import json
import shutil
import ssl
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.certificates import self_signed
from webapp.delivery.transports.sigv4 import signed_headers
from webapp.providers import service as providers
from webapp.providers.models import Provider

CREDENTIALS = {
    "ses": {"access_key_id": "AKIDMAILROOMTEST", "secret_access_key": "ses-secret-for-tests"},
    "sendgrid": {"api_key": "SG.test-key"},
    "postmark": {"server_token": "postmark-test-token"},
    "mailgun": {"api_key": "key-mailgun-test"},
}
MAILGUN_DOMAIN = "mg.mailroom.test"
SENDGRID_SUBSTITUTIONS_LIMIT = 10_000
POSTMARK_BATCH_LIMIT = 500
DROP = "drop"
POSTMARK_INACTIVE = (
    "You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: {}. "
    "Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression."
)  # a scripted reply: take the messages, answer nothing, close the connection


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any = None  # JSON, or text for a str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Taken:
    """A message the API took."""

    recipient: str
    subject: str
    text: str
    html: str
    headers: dict[str, str]
    raw: bytes | None = None  # for the APIs that take MIME
    provider_message_id: str = ""  # the API's id of it, as its reply gave it


@dataclass
class EspApi:
    kind: str
    url: str = ""
    ca_file: str = ""  # over TLS: the certificate a client must trust (self-signed)
    taken: list[Taken] = field(default_factory=list)
    send_requests: int = 0  # requests to send mail, whatever was answered
    hosts: list[str] = field(default_factory=list)  # the Host header of every request, of any kind
    replies: list[Reply | str] = field(default_factory=list)  # for the next sending requests
    refused: set[str] = field(default_factory=set)  # addresses the API refuses (Postmark: inactive)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def credentials(self) -> dict[str, str]:
        return CREDENTIALS[self.kind]

    def recipients(self) -> list[str]:
        with self.lock:
            return [t.recipient for t in self.taken]

    def settings(self) -> dict[str, Any]:
        """The provider's settings that point Mailroom at this server (on 127.0.0.1, so a private address)."""
        extra = {"ses": {"region": "eu-west-1"}, "mailgun": {"domain": MAILGUN_DOMAIN}}.get(self.kind, {})
        return {"base_url": self.url, "allow_private": True} | extra


def _mime(raw: bytes) -> Taken:
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(parsed, EmailMessage)

    def body(subtype: str) -> str:
        part = parsed.get_body(preferencelist=(subtype,))
        return str(part.get_content()) if part is not None else ""

    return Taken(
        recipient=str(parsed["To"]),
        subject=str(parsed["Subject"]),
        text=body("plain"),
        html=body("html"),
        headers={k: str(v) for k, v in parsed.items()},
        raw=raw,
    )


class _Handler(BaseHTTPRequestHandler):
    api: EspApi

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def _answer(self, reply: Reply) -> None:
        payload = (
            b""
            if reply.body is None
            else (reply.body if isinstance(reply.body, str) else json.dumps(reply.body)).encode()
        )
        self.send_response(reply.status)
        content_type = "text/plain" if isinstance(reply.body, str) else "application/json"
        for name, value in {"Content-Type": content_type, **reply.headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _deliver(self, taken: list[Taken], accepted: Reply) -> Reply | None:
        """The scripted reply to a sending request, else `accepted` (the messages are taken); None
        when the connection is to close unanswered (the messages were taken)."""
        with self.api.lock:
            self.api.send_requests += 1
            scripted = self.api.replies.pop(0) if self.api.replies else None
            if scripted is None or scripted == DROP:
                self.api.taken.extend(taken)
        if scripted == DROP:
            self.close_connection = True
            return None
        return scripted if isinstance(scripted, Reply) else accepted

    def do_GET(self) -> None:
        self._route("GET", b"")

    def do_POST(self) -> None:
        self._route("POST", self._body())

    def _route(self, method: str, body: bytes) -> None:
        with self.api.lock:
            self.api.hosts.append(self.headers.get("Host", ""))
        reply = getattr(self, f"_{self.api.kind}")(method, body)
        if reply is not None:
            self._answer(reply)

    # ---- Amazon SES v2 --------------------------------------------------------------------------

    def _ses_error(self, status: int, error_type: str, message: str) -> Reply:
        return Reply(status, {"message": message}, {"x-amzn-ErrorType": f"{error_type}:http://internal.amazon.com/"})

    def _ses(self, method: str, body: bytes) -> Reply | None:
        credentials = self.api.credentials
        given = self.headers.get("Authorization", "")
        amz_date = self.headers.get("x-amz-date", "")
        try:
            now = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            return self._ses_error(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
        signed = [part.split("=")[1] for part in given.split(", ") if part.startswith("SignedHeaders=")]
        names = signed[0].split(";") if signed else []
        expected = signed_headers(
            method,
            f"http://{self.headers.get('Host', '')}{self.path}",
            body,
            access_key=credentials["access_key_id"],
            secret_key=credentials["secret_access_key"],
            region="eu-west-1",
            service="ses",
            now=now,
            headers={name: self.headers.get(name, "") for name in names if name not in ("host", "x-amz-date")},
        )
        if expected["authorization"] != given:
            return self._ses_error(
                403,
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided.",
            )
        if method == "GET" and self.path == "/v2/email/account":
            quota = {"Max24HourSend": 50000.0, "MaxSendRate": 14.0, "SentLast24Hours": float(len(self.api.taken))}
            return Reply(200, {"SendingEnabled": True, "ProductionAccessEnabled": True, "SendQuota": quota})
        if method != "POST" or self.path != "/v2/email/outbound-emails":
            return self._ses_error(404, "NotFoundException", "Not found")
        request = json.loads(body)
        taken = _mime(base64.b64decode(request["Content"]["Raw"]["Data"]))
        taken.recipient = request["Destination"]["ToAddresses"][0]
        taken.provider_message_id = f"0100{uuid.uuid4().hex}-000000"
        return self._deliver([taken], Reply(200, {"MessageId": taken.provider_message_id}))

    # ---- SendGrid v3 ----------------------------------------------------------------------------

    def _sendgrid_error(self, status: int, message: str, field_name: str | None = None) -> Reply:
        return Reply(status, {"errors": [{"message": message, "field": field_name, "help": None}]})

    def _sendgrid(self, method: str, body: bytes) -> Reply | None:
        if self.headers.get("Authorization") != f"Bearer {self.api.credentials['api_key']}":
            return self._sendgrid_error(401, "The provided authorization grant is invalid, expired, or revoked")
        if method == "GET" and self.path == "/v3/scopes":
            return Reply(200, {"scopes": ["mail.send", "user.profile.read"]})
        if method != "POST" or self.path != "/v3/mail/send":
            return self._sendgrid_error(404, "not found")
        request = json.loads(body)
        personalizations = request.get("personalizations") or []
        if not 1 <= len(personalizations) <= 1000:
            return self._sendgrid_error(
                400,
                "The personalizations field is required and must have at least one personalization.",
                "personalizations",
            )
        refused = [n for n, p in enumerate(personalizations) if p["to"][0]["email"] in self.api.refused]
        if refused:
            errors = [
                {
                    "message": "Does not contain a valid address.",
                    "field": f"personalizations.{n}.to.0.email",
                    "help": None,
                }
                for n in refused
            ]
            with self.api.lock:
                self.api.send_requests += 1
            return Reply(400, {"errors": errors})
        taken = []
        for n, p in enumerate(personalizations):
            substitutions = p.get("substitutions", {})
            if sum(len(k.encode()) + len(v.encode()) for k, v in substitutions.items()) > SENDGRID_SUBSTITUTIONS_LIMIT:
                return self._sendgrid_error(
                    400,
                    "The total size of substitutions may not exceed 10000 bytes per personalization object.",
                    f"personalizations.{n}.substitutions",
                )

            def filled(text: str, substitutions: dict[str, str] = substitutions) -> str:
                for tag, value in substitutions.items():
                    text = text.replace(tag, value)
                return text

            content = {c["type"]: filled(c["value"]) for c in request["content"]}
            headers = {"From": request["from"]["email"], **request.get("headers", {}), **p.get("headers", {})}
            taken.append(
                Taken(
                    p["to"][0]["email"],
                    filled(p.get("subject", request.get("subject", ""))),
                    content.get("text/plain", ""),
                    content.get("text/html", ""),
                    headers,
                )
            )
        request_id = uuid.uuid4().hex[:22]  # one for the request: its events' sg_message_id start with it
        for message in taken:
            message.provider_message_id = request_id
        return self._deliver(taken, Reply(202, None, {"X-Message-Id": request_id}))

    # ---- Postmark -------------------------------------------------------------------------------

    def _postmark(self, method: str, body: bytes) -> Reply | None:
        if self.headers.get("X-Postmark-Server-Token") != self.api.credentials["server_token"]:
            return Reply(401, {"ErrorCode": 10, "Message": "Request does not contain a valid Server token."})
        if method == "GET" and self.path == "/server":
            return Reply(200, {"ID": 1, "Name": "Mailroom tests", "DeliveryType": "Live"})
        if method != "POST" or self.path != "/email/batch":
            return Reply(404, {"ErrorCode": 404, "Message": "Not found"})
        messages = json.loads(body)
        if len(messages) > POSTMARK_BATCH_LIMIT:
            return Reply(422, {"ErrorCode": 410, "Message": "Too many batch messages."})
        answers, taken = [], []
        for m in messages:
            if m["To"] in self.api.refused:
                answers.append(
                    {
                        "ErrorCode": 406,
                        "Message": POSTMARK_INACTIVE.format(m["To"]),
                    }
                )
                continue
            headers = {h["Name"]: h["Value"] for h in m.get("Headers", [])} | {"From": m["From"]}
            message_id = str(uuid.uuid4())
            body = (m.get("TextBody", ""), m.get("HtmlBody", ""))
            taken.append(Taken(m["To"], m["Subject"], *body, headers, provider_message_id=message_id))
            answers.append(
                {
                    "To": m["To"],
                    "SubmittedAt": datetime.now(UTC).isoformat(),
                    "MessageID": message_id,
                    "ErrorCode": 0,
                    "Message": "OK",
                }
            )
        return self._deliver(taken, Reply(200, answers))

    # ---- Mailgun --------------------------------------------------------------------------------

    def _mailgun(self, method: str, body: bytes) -> Reply | None:
        expected = "Basic " + base64.b64encode(f"api:{self.api.credentials['api_key']}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            return Reply(401, "Forbidden")
        if method == "GET" and self.path == f"/v3/domains/{MAILGUN_DOMAIN}":
            return Reply(
                200,
                {
                    "domain": {"name": MAILGUN_DOMAIN, "state": "active"},
                    "receiving_dns_records": [],
                    "sending_dns_records": [],
                },
            )
        if method != "POST" or self.path != f"/v3/{MAILGUN_DOMAIN}/messages.mime":
            return Reply(404, {"message": "Domain not found"})
        form = BytesParser(policy=policy.default).parsebytes(
            f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body
        )
        fields = {part.get_param("name", header="content-disposition"): part for part in form.iter_parts()}
        if "to" not in fields or "message" not in fields:
            return Reply(400, {"message": "to parameter is missing"})
        taken = _mime(fields["message"].get_payload(decode=True))
        taken.recipient = fields["to"].get_content().strip()
        taken.provider_message_id = f"<{uuid.uuid4().hex}@{MAILGUN_DOMAIN}>"
        return self._deliver([taken], Reply(200, {"id": taken.provider_message_id, "message": "Queued. Thank you."}))


def _tls(server: ThreadingHTTPServer, host_name: str) -> str:
    """Serve HTTPS with a new self-signed certificate for host_name; the certificate's file."""
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = self_signed(key, host_name, valid_days=1, dns_names=[host_name])
    folder = Path(tempfile.mkdtemp(prefix="mr-esp-tls-"))
    (folder / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    return str(folder / "cert.pem")


@contextmanager
def esp_api(kind: str, *, tls_for: str = "") -> Iterator[EspApi]:
    """A running local API of this kind ("ses", "sendgrid", "postmark", "mailgun"); over HTTPS with a
    certificate for the host name `tls_for`, when given."""
    api = EspApi(kind)
    handler = type("Handler", (_Handler,), {"api": api})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    if tls_for:
        api.ca_file = _tls(server, tls_for)
    api.url = f"{'https' if tls_for else 'http'}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        if api.ca_file:
            shutil.rmtree(Path(api.ca_file).parent)


async def add_provider(session: AsyncSession, api: EspApi, **fields: Any) -> Provider:
    """A provider of the API's kind pointed at it, with its credentials, through the admin's service."""
    data = {
        "name": f"{api.kind} test",
        "kind": api.kind,
        "batch_size": 50,
        "rate_per_second": 0,
        "rate_per_hour": 0,
        "rate_per_day": 0,
        "max_connections": 4,
        "priority": 0,
        "is_active": True,
        **api.settings(),
        **api.credentials,
        **fields,
    }
    provider = await providers.create_provider(session, data)
    await session.commit()
    await session.refresh(provider)
    return provider
