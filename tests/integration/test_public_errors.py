"""What a subscriber sees when a link from an email is broken: a public page in their language,
with no way into the staff UI, never the staff error page or a server error."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from tests.integration.test_tracking import sent_delivery
from webapp.core.tokens import make_token


def damaged(purpose: str) -> str:
    return make_token(purpose, 1)[:-3]


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        (f"/u/view/{damaged('unsubscribe')}", 404, "This link is not valid."),
        (f"/u/c/{damaged('click')}", 404, "This link is not valid."),
        ("/archive/99999999999999999999", 404, "This newsletter is not in the archive."),
        ("/archive/9223372036854775808", 404, "This newsletter is not in the archive."),
        ("/archive/0", 404, "This newsletter is not in the archive."),
        ("/u/nothing-here", 404, "The link may be incomplete"),
        ("/subscribe/abc", 404, "The link may be incomplete"),
    ],
)
async def test_a_broken_subscriber_link_gets_a_public_page(db, live_server, path, status, message):
    english = httpx.get(live_server + path)
    assert english.status_code == status
    assert message in english.text and "This page does not exist" in english.text
    assert "dashboard" not in english.text.lower() and 'href="/"' not in english.text
    assert 'name="viewport"' in english.text
    spanish = httpx.get(live_server + path, params={"lang": "es"})
    assert spanish.status_code == status and "Esta página no existe" in spanish.text
    assert spanish.headers["content-language"] == "es"


async def test_a_broken_or_unknown_unsubscribe_link_says_to_use_a_newer_email(db, live_server):
    for token in (damaged("unsubscribe"), make_token("unsubscribe", 987654)):
        english = httpx.get(f"{live_server}/u/unsubscribe/{token}")
        assert english.status_code == 404 and 'id="link-invalid"' in english.text
        assert "Open it again from the latest email you received from us." in english.text
        assert "dashboard" not in english.text.lower() and 'href="/"' not in english.text
        spanish = httpx.get(f"{live_server}/u/unsubscribe/{token}", params={"lang": "es"})
        assert spanish.status_code == 404 and "Este enlace no es válido" in spanish.text


async def test_a_method_no_page_offers_is_explained_in_words(db, live_server):
    for method, path in (("PUT", "/subscribe/1"), ("DELETE", f"/u/unsubscribe/{make_token('unsubscribe', 1)}")):
        spanish = httpx.request(method, live_server + path, headers={"Accept-Language": "es"})
        assert spanish.status_code == 405 and "Esta dirección no se abre así" in spanish.text
        assert "Method Not Allowed" not in spanish.text


async def test_a_bad_archive_cursor_is_a_public_400(db, live_server):
    response = httpx.get(live_server + "/archive", params={"cursor": "\x00"}, headers={"Accept-Language": "es"})
    assert response.status_code == 400
    assert "Esta solicitud no es válida" in response.text and "dashboard" not in response.text.lower()


async def test_a_link_to_something_gone_says_so_in_the_subscribers_language(db, live_server):
    """A genuine message's preferences link, once its contact was deleted."""
    _, delivery_id, _ = await sent_delivery(db)
    await db.execute(text("DELETE FROM contacts"))
    await db.commit()
    url = f"{live_server}/u/preferences/{make_token('unsubscribe', delivery_id)}"
    changes = {"join": "1", "topics_shown": "1"}
    for response in (httpx.get(url, params={"lang": "es"}), httpx.post(url, params={"lang": "es"}, data=changes)):
        assert response.status_code == 404
        assert "Esta página no existe" in response.text or "Este enlace no es válido" in response.text
        assert "This link" not in response.text and "Not Found" not in response.text
