"""Bounce and complaint mail from tests/fixtures/bounce-mail/, addressed to one delivery: its
{{return_path}} (a signed VERP address, or a forged one), {{recipient}} and {{message_id}}."""

from __future__ import annotations

from pathlib import Path

from webapp.core import verp

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bounce-mail"
BOUNCE_ADDRESS = "bounces@bounce.example.com"
FORGED_TAG = "aaaaaaaaaa"


def bounce_mail(
    name: str,
    *,
    delivery_id: int,
    recipient: str = "person1@example.com",
    message_id: str = "<1.a1b2c3d4@mailroom.example.com>",
    forged: bool = False,
) -> bytes:
    """The fixture's bytes with CRLF line ends, as a mailbox holds them."""
    return_path = verp.return_path(BOUNCE_ADDRESS, delivery_id)
    if forged:
        return_path = return_path.replace(return_path.split("-")[1].split("@")[0], FORGED_TAG)
    text = (FIXTURES / f"{name}.eml").read_text()
    for placeholder, value in (
        ("return_path", return_path),
        ("recipient", recipient),
        ("message_id", message_id),
        ("bounce_address", BOUNCE_ADDRESS),
    ):
        text = text.replace("{{" + placeholder + "}}", value)
    return text.replace("\n", "\r\n").encode()
