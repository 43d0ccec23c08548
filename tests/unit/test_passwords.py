"""Passwords are hashed with argon2id at RFC 9106's recommended cost unless configured otherwise (the
test suite lowers it, as conftest.py says); a hash made at another cost is hashed again at sign-in."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, extract_parameters

from webapp.core.config import SecuritySettings, get_settings
from webapp.core.errors import ValidationFailed
from webapp.staff.service import passwords

COST_VARIABLES = ("MAILROOM_PASSWORD_TIME_COST", "MAILROOM_PASSWORD_MEMORY_KIB", "MAILROOM_PASSWORD_PARALLELISM")


def test_the_default_cost_is_rfc_9106s_recommendation(monkeypatch):
    for name in COST_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    default = SecuritySettings()
    assert (default.password_time_cost, default.password_memory_kib, default.password_parallelism) == (3, 65536, 4)


def test_hashes_are_argon2id_at_the_configured_cost_and_other_costs_are_rehashed():
    made = passwords.hash_password("correct horse battery")
    cost = get_settings().security
    parameters = extract_parameters(made)
    assert made.startswith("$argon2id$")
    assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (
        cost.password_time_cost,
        cost.password_memory_kib,
        cost.password_parallelism,
    )
    assert passwords.verify_password(made, "correct horse battery")
    assert not passwords.verify_password(made, "correct horse batterY")
    assert not passwords.verify_password(None, "correct horse battery")
    assert not passwords.needs_rehash(made)
    assert passwords.needs_rehash(PasswordHasher(time_cost=2, memory_cost=8192, parallelism=2).hash("x"))


def test_a_password_easy_to_guess_is_refused_saying_why():
    for password, why in (
        ("password123", "This is a very common password."),
        ("abcdefghij", 'Sequences like "abc"'),
        ("lovelace1815", "It holds this account's name or address"),
        ("mailroom2026", "or the name Mailroom"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            passwords.check_unguessable(password, ["ada.lovelace@example.com", "Ada Lovelace"])
        assert refused.value.errors["password"].startswith("Too easy to guess. "), password
        assert why in refused.value.errors["password"], password
    passwords.check_unguessable("correct horse battery", ["ada.lovelace@example.com", "Ada Lovelace"])
    passwords.check_unguessable("x" * 5 + "correct horse battery" * 50, [None])  # past zxcvbn's 72 characters
