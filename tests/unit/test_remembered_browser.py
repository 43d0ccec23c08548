"""A browser remembered at two-step sign-in: its cookie spares that account the code until it
expires, and never once the password or the two-step secret changed, nor for another account."""

from __future__ import annotations

from webapp.staff.models import User
from webapp.staff.service.two_step import remembered_browser, remembers


def account(**changes) -> User:
    return User(**{"id": 7, "password_hash": "$argon2id$one", "totp_secret_encrypted": b"secret-1", **changes})


def test_the_cookie_spares_the_same_account_the_code():
    kept = remembered_browser(account())
    assert remembers(account(), kept)


def test_a_new_password_signing_out_everywhere_or_two_step_set_up_again_forgets_the_browser():
    kept = remembered_browser(account())
    assert not remembers(account(password_hash="$argon2id$two"), kept)
    assert not remembers(account(session_epoch=1), kept)
    assert not remembers(account(totp_secret_encrypted=b"secret-2"), kept)


def test_another_account_an_expired_or_altered_cookie_is_not_remembered():
    kept = remembered_browser(account())
    user_id, until, mac = kept.split(".")
    assert not remembers(account(id=8), kept)
    assert not remembers(account(id=8), f"8.{until}.{mac}")
    assert not remembers(account(), f"{user_id}.{int(until) + 86400}.{mac}")  # made to last longer
    assert not remembers(account(), remembered_browser(account(), days=-1))
    for junk in (None, "", "7", "7..", "x.y.z", kept + "0"):
        assert not remembers(account(), junk)
