"""A finished MIME message taken apart for the APIs that take fields instead of raw MIME (Postmark,
SendGrid): addresses, subject, the text and HTML bodies, and the headers to pass on (List-Unsubscribe
and the like). The provider builds and DKIM-signs the message again, so our own signature, and the
headers it makes itself, are left out."""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr

# Made by the provider from the fields, or invalid once it rebuilt the message.
NOT_PASSED_ON = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "reply-to",
        "date",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "dkim-signature",
        "return-path",
    }
)


@dataclass(frozen=True)
class Parts:
    from_email: str
    from_name: str
    to: str
    reply_to: str
    subject: str
    text: str
    html: str
    headers: list[tuple[str, str]]


def parts_of(message: bytes) -> Parts:
    parsed = BytesParser(policy=policy.default).parsebytes(message)
    assert isinstance(parsed, EmailMessage)
    from_name, from_email = parseaddr(str(parsed.get("From", "")))
    return Parts(
        from_email=from_email,
        from_name=from_name,
        to=str(parsed.get("To", "")),
        reply_to=str(parsed.get("Reply-To", "")),
        subject=str(parsed.get("Subject", "")),
        text=_body(parsed, "plain"),
        html=_body(parsed, "html"),
        headers=[(name, str(value)) for name, value in parsed.items() if name.lower() not in NOT_PASSED_ON],
    )


def _body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return ""
    content = part.get_content()
    return content if isinstance(content, str) else ""
