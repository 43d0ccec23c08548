"""The contacts' search vector parses each address once, with `@.+_-` turned into spaces, and no
longer the address as typed too. The search (contacts.queries.filters.search_query) turns `@` and
`.` into spaces and keeps only the letters and digits of each word, so a lexeme from the address as
typed could only ever be found by a search word made of its leading letters and digits; for every
shape of address here, a lexeme of the new vector starts with those too: every search finds the
same contacts as before."""

from __future__ import annotations

from sqlalchemy import text

from webapp.contacts.models import SEARCH_VECTOR_SQL

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
    """What of a lexeme a search word can be: search_query keeps only letters and digits."""
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
