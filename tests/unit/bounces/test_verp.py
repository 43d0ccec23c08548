"""Signed VERP return paths: each delivery's own, verifiable, and useless to a forger."""

from __future__ import annotations

import pytest

from webapp.core.verp import delivery_id, return_path


def test_a_return_path_names_its_delivery_at_the_bounce_domain():
    address = return_path("bounces@bounce.example.com", 1234)
    local, _, domain = address.partition("@")
    assert domain == "bounce.example.com"
    assert local.startswith("bounces+1234-") and local == local.lower()
    assert delivery_id(address) == 1234


def test_a_return_path_still_verifies_after_a_server_changed_its_case_or_added_brackets():
    address = return_path("Bounce.Box@example.com", 77)
    assert delivery_id(address.upper()) == 77
    assert delivery_id(f"<{address}>") == 77


@pytest.mark.parametrize(
    "forged",
    [
        "bounces+1234-aaaaaaaaaa@bounce.example.com",  # a made-up tag
        "bounces+1234@bounce.example.com",  # no tag
        "bounces@bounce.example.com",  # the bare bounce address
        "bounces+-abc@bounce.example.com",
        "bounces+１２３-abc@bounce.example.com",  # non-ASCII digits
        "person@example.com",
        "",
    ],
)
def test_a_forged_or_damaged_return_path_names_no_delivery(forged):
    assert delivery_id(forged) is None


def test_one_deliverys_tag_does_not_verify_for_another():
    tag = return_path("b@x.example", 1).split("-", 1)[1]
    assert delivery_id(f"b+2-{tag}") is None
