"""The contacts' search vector parses each address once, with `@.+_-` turned into spaces, and no
longer the address as typed too: every search word that found an address before still does. And
every address, pasted whole into the search (contacts.queries.filters.search_query, which splits
words at any punctuation), finds its contact, as do names with an apostrophe or a hyphen."""

from __future__ import annotations

from sqlalchemy import text

from webapp.contacts.models import SEARCH_VECTOR_SQL
from webapp.contacts.queries.filters import search_query

AS_TYPED_TOO = (
    "to_tsvector('simple'::regconfig, "
    "email || ' ' || translate(email, '@.+_-', '     ') || ' ' || "
    "first_name || ' ' || last_name || ' ' || company)"
)
ADDRESSES = [
    "ada@example.com",
    "Ada.Lovelace@Example.COM",
    "o'brien@example.ie",
    "first.last+news@mail.example.co.uk",
    "user_name-42@sub.example.io",
    "j.doe1984@gmail.com",
    "1234567@qq.com",
    "x@y.z",
    "a!b#c$d%e&f*g/h=i?j^k`l{m|n}o~p@example.org",
    'quoted"local@example.net',
    "jörg.müller@exämple.de",
    "δοκιμή@παράδειγμα.δοκιμή",
    "用户@例子.广告",
    "mañana-ñ@correo.es",
    "info@123.45.67.89",
    "user@[192.168.0.1]",
    "dots..twice@example.com",
    "-leading@example.com",
    "trailing-@example.com",
    "_under@example.com",
    "a.b-c_d+e@f-g.h_i.example",
    "UPPER+CASE@EXAMPLE.COM",
    "http://x@example.com",
    "name@example.com/path",
    "v1.2.3@example.com",
    "12-34@example.com",
    "ab12cd@example.com",
    "tag+@example.com",
    "a--b@example.com",
]


def leading_letters_and_digits(lexeme: str) -> str:
    """What of a lexeme a search word can be: letters and digits."""
    for position, character in enumerate(lexeme):
        if not character.isalnum():
            return lexeme[:position]
    return lexeme


async def test_every_search_word_that_found_an_address_as_typed_still_finds_it(db) -> None:
    for address in ADDRESSES:
        row = (
            await db.execute(
                text(
                    f"SELECT tsvector_to_array({AS_TYPED_TOO}), tsvector_to_array({SEARCH_VECTOR_SQL}) "
                    "FROM (SELECT CAST(:email AS text) AS email, 'Ada' AS first_name, 'King' AS last_name, "
                    "'Acme' AS company) AS contact"
                ),
                {"email": address},
            )
        ).one()
        before, after = set(row[0]), set(row[1])
        assert after <= before, address
        for lexeme in before - after:
            word = leading_letters_and_digits(lexeme)
            assert not word or any(kept.startswith(word) for kept in after), (address, lexeme, sorted(after))


async def test_an_address_or_a_name_typed_whole_finds_its_contact(db) -> None:
    # PostgreSQL's parser reads a slash as part of a file path ("g/h", "http://x"): an address with
    # one is found by its other words, not typed whole. No address people use has one.
    people = [(address, "Ada", "King") for address in ADDRESSES if "/" not in address] + [
        ("x@example.com", "Seán", "O'Brien"),
        ("y@example.com", "Jean-Luc", "Picard"),
    ]
    for address, first_name, last_name in people:
        for typed in (address, f"{first_name} {last_name}", address.split("@")[0]):
            found = await db.scalar(
                text(
                    f"SELECT {SEARCH_VECTOR_SQL} @@ to_tsquery('simple'::regconfig, :q) "
                    "FROM (SELECT CAST(:email AS text) AS email, CAST(:first AS text) AS first_name, "
                    "CAST(:last AS text) AS last_name, 'Acme' AS company) AS contact"
                ),
                {"email": address, "first": first_name, "last": last_name, "q": search_query(typed) or "x"},
            )
            assert found, (address, typed, search_query(typed))
