"""A test send's recipients: every mistake in the box is named at once, so one correction does."""

from __future__ import annotations

import pytest

from webapp.core.errors import ValidationFailed
from webapp.delivery.test_send import parse_recipients


def test_addresses_are_split_deduplicated_and_kept_as_typed() -> None:
    assert parse_recipients("a@example.com, B@example.com; b@EXAMPLE.com\nc@example.com") == [
        "a@example.com",
        "B@example.com",
        "c@example.com",
    ]


def test_every_bad_address_and_the_limit_are_named_together() -> None:
    typed = "foo, bar@, " + ", ".join(f"t{i}@example.com" for i in range(12))
    with pytest.raises(ValidationFailed) as failed:
        parse_recipients(typed)
    message = failed.value.errors["recipients"]
    assert message.startswith("foo: ") and " bar@: " in message
    assert message.endswith("Send a test to at most 10 addresses at a time.")


def test_an_empty_box_asks_for_an_address() -> None:
    with pytest.raises(ValidationFailed) as failed:
        parse_recipients(" , ")
    assert failed.value.errors == {"recipients": "Enter at least one address to send the test to."}


def test_a_character_that_prints_as_nothing_is_named_as_an_escape() -> None:
    with pytest.raises(ValidationFailed) as failed:
        parse_recipients("x\x00@y.com")
    message = failed.value.errors["recipients"]
    assert message.startswith("x\\x00@y.com: ") and "\x00" not in message
