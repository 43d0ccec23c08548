"""The dev outbox: the capture SMTP server stores what it receives, and staff read it rendered."""

from __future__ import annotations

import html
import re
import socket
from collections.abc import AsyncIterator
from email.message import EmailMessage

import aiosmtplib
import pytest
from markupsafe import escape
from sqlalchemy import func, select

from webapp.delivery import capture_smtp
from webapp.outbox import service as outbox
from webapp.outbox.models import OutboxMessage

HTML_PART = (
    '<p class="hi">Hello "Ann" &amp; <b>friends</b></p><script>alert(1)</script>'
    '<a href="https://example.com/?a=1&amp;b=2">Shop</a>'
)


@pytest.fixture
async def capture_port(db) -> AsyncIterator[int]:
    """The capture server, in this test's event loop, on a free port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = await capture_smtp.start("127.0.0.1", port)
    yield port
    server.close()
    await server.wait_closed()


def newsletter() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Mailroom <news@example.com>"
    message["To"] = "ann@example.com"
    message["Subject"] = "Grüße & news"
    message["Message-ID"] = "<abc123@example.com>"
    message["List-Unsubscribe"] = "<https://mail.example.com/u/unsubscribe/token>"
    message.set_content("Hello Ann,\nthe text part.")
    message.add_alternative(HTML_PART, subtype="html")
    return message


async def test_capture_server_stores_what_it_receives(capture_port, db):
    errors, reply = await aiosmtplib.send(
        newsletter(), hostname="127.0.0.1", port=capture_port, recipients=["ann@example.com", "bob@example.com"]
    )
    assert errors == {}
    row = (await db.scalars(select(OutboxMessage))).one()
    assert reply == f"2.0.0 Captured as outbox message {row.id}"
    assert (row.mail_from, row.rcpt_to) == ("news@example.com", "ann@example.com, bob@example.com")
    assert (row.subject, row.message_id) == ("Grüße & news", "<abc123@example.com>")
    view = outbox.view(row.raw)
    assert view.html.strip() == HTML_PART and view.text.strip() == "Hello Ann,\nthe text part."
    assert ("List-Unsubscribe", "<https://mail.example.com/u/unsubscribe/token>") in view.headers


async def test_outbox_lists_captured_mail_and_shows_it_safely(capture_port, staff, db):
    admin = await staff("admin")
    await aiosmtplib.send(newsletter(), hostname="127.0.0.1", port=capture_port)
    row_id = await db.scalar(select(OutboxMessage.id))

    listing = admin.get("/outbox")
    assert listing.status_code == 200
    assert f'<a href="/outbox/{row_id}">Grüße &amp; news</a>' in listing.text
    assert "ann@example.com" in listing.text

    detail = admin.get(f"/outbox/{row_id}").text
    srcdoc = escape('<base target="_blank">' + HTML_PART + "\n")  # every quote, <, > and & escaped for the attribute
    sandbox = 'sandbox="allow-popups allow-popups-to-escape-sandbox"'  # no scripts, forms or same-origin access
    assert f'title="HTML part of the message" {sandbox}\n          srcdoc="{srcdoc}"></iframe>' in detail
    assert "<script>alert(1)</script>" not in detail and "&lt;script&gt;" in detail
    assert '<pre class="outbox-text">Hello Ann,\nthe text part.' in detail
    assert '<th scope="row">Message-ID</th><td>&lt;abc123@example.com&gt;</td>' in detail
    assert html.unescape(detail).count(HTML_PART) == 1  # exactly the part, once, inside srcdoc

    assert admin.get("/outbox/999999").status_code == 404
    assert admin.get("/outbox/99999999999999999999999").status_code == 404


async def test_outbox_pages_newest_first_with_a_keyset_cursor(staff, db):
    admin = await staff("admin")
    for n in range(1, 56):
        await outbox.store(
            db, "news@example.com", [f"reader{n}@example.com"], f"Subject: Message {n}\r\n\r\nbody\r\n".encode()
        )
    await db.commit()

    first = admin.get("/outbox").text
    assert first.index(">Message 55<") < first.index(">Message 54<")
    assert ">Message 6<" in first and ">Message 5<" not in first
    sixth_id = await db.scalar(select(OutboxMessage.id).where(OutboxMessage.subject == "Message 6"))
    assert f'href="/outbox?before={sixth_id}">Older →</a>' in first

    second = admin.get(f"/outbox?before={sixth_id}").text
    assert all(f">Message {n}<" in second for n in range(1, 6)) and ">Message 6<" not in second
    assert "Older →" not in second and '<a class="button small" href="/outbox">← Newest</a>' in second

    for junk in ("abc", "-1", "²", "99999999999999999999999", "1e9"):
        response = admin.get("/outbox", params={"before": junk})
        assert response.status_code == 200 and ">Message 55<" in response.text, junk


async def test_only_admins_read_or_clear_the_outbox(staff, db):
    """It holds mail to real people and their links: a staff password reset would let an editor or a
    viewer sign in as whoever it was for, an admin included."""
    for n in range(3):
        await outbox.store(db, "a@example.com", ["b@example.com"], f"Subject: {n}\r\n\r\nx\r\n".encode())
    await db.commit()
    message_id = await db.scalar(select(OutboxMessage.id).limit(1))
    for role in ("viewer", "editor"):
        client = await staff(role)
        for url in ("/outbox", f"/outbox/{message_id}", f"/outbox/{message_id}/raw", f"/outbox/{message_id}/raw.eml"):
            assert client.get(url).status_code == 403, (role, url)
        assert client.post("/outbox/clear").status_code == 403
        assert 'href="/outbox"' not in client.get("/").text  # not in their menu either
    assert await db.scalar(select(func.count()).select_from(OutboxMessage)) == 3

    admin = await staff("admin")
    assert "Clear outbox" in admin.get("/outbox").text and 'href="/outbox"' in admin.get("/").text
    response = admin.post("/outbox/clear")
    assert response.status_code == 303 and response.headers["location"] == "/outbox"
    assert await db.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    page = admin.get("/outbox").text
    assert "Outbox cleared (3 messages deleted)." in page and "No mail captured yet." in page


async def test_odd_messages_still_show(staff, db):
    admin = await staff("admin")
    odd = [
        b"\xff\xfe not a header line at all \x00\r\n",
        b"Subject: =?x-unknown?q?weird?=\r\nContent-Type: text/html; charset=x-unknown\r\n\r\n<p>caf\xe9</p>\r\n",
        b"Subject: bad base64\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!notbase64\r\n",
    ]
    ids = [(await outbox.store(db, "", ["x@example.com"], raw)).id for raw in odd]
    await db.commit()
    assert admin.get("/outbox").status_code == 200
    for message_id in ids:
        assert admin.get(f"/outbox/{message_id}").status_code == 200
    assert "caf\ufffd" in admin.get(f"/outbox/{ids[1]}").text


async def test_outbox_search_by_recipient_or_subject_pages_with_its_cursor(staff, db):
    admin = await staff("admin")
    for n in range(1, 121):
        recipient = f"reader{n}@shop.example" if n % 2 else f"friend{n}@example.org"
        subject = f"Invoice {n}" if n % 3 == 0 else f"Newsletter {n}"
        await outbox.store(db, "news@example.com", [recipient], f"Subject: {subject}\r\n\r\nbody\r\n".encode())
    await outbox.store(db, "news@example.com", ["x@example.com"], b"Subject: 100% off_sale\r\n\r\nbody\r\n")
    await db.commit()

    by_recipient = admin.get("/outbox", params={"q": "SHOP.example"}).text
    assert 'name="q" value="SHOP.example"' in by_recipient
    shown = re.findall(r">(?:Invoice|Newsletter) (\d+)<", by_recipient)
    assert [int(n) for n in shown] == list(range(119, 19, -2))  # 50 odd ones, newest first
    older = re.search(r'href="(/outbox\?[^"]*before=\d+[^"]*)">Older →', by_recipient).group(1)
    assert "q=SHOP.example" in html.unescape(older)
    second = admin.get(html.unescape(older)).text
    assert [int(n) for n in re.findall(r">(?:Invoice|Newsletter) (\d+)<", second)] == list(range(19, 0, -2))
    assert "Older →" not in second and 'href="/outbox?q=SHOP.example">← Newest</a>' in second

    by_subject = admin.get("/outbox", params={"q": "invoice 1"}).text  # any case, anywhere in the subject
    invoices = sorted(int(n) for n in re.findall(r">Invoice (\d+)<", by_subject))
    assert invoices == [12, 15, 18, 102, 105, 108, 111, 114, 117, 120]
    literal = admin.get("/outbox", params={"q": "100%"}).text  # % and _ are plain characters
    assert ">100% off_sale<" in literal and ">Newsletter" not in literal and ">Invoice" not in literal
    assert ">100% off_sale<" in admin.get("/outbox", params={"q": "f_s"}).text
    none = admin.get("/outbox", params={"q": "nobody@nowhere"}).text
    assert "No messages match" in none and "Newsletter" not in none
    for odd in ("x" * 5000, "'; DROP TABLE outbox_messages; --", "\\", "[]"):
        assert admin.get("/outbox", params={"q": odd}).status_code == 200, odd
    for odd in ("\x00", "a\x00b"):  # a NUL in any query parameter is a 400 naming it (core/parameters.py)
        assert admin.get("/outbox", params={"q": odd}).status_code == 400, odd


async def test_outbox_shows_and_downloads_a_message_exactly_as_received(capture_port, staff, db):
    admin = await staff("admin")
    await aiosmtplib.send(newsletter(), hostname="127.0.0.1", port=capture_port)
    row = (await db.scalars(select(OutboxMessage))).one()

    detail = admin.get(f"/outbox/{row.id}").text
    assert f'href="/outbox/{row.id}/raw"' in detail and f'href="/outbox/{row.id}/raw.eml"' in detail
    source = admin.get(f"/outbox/{row.id}/raw")
    assert source.status_code == 200 and source.content == row.raw
    assert source.headers["content-type"] == "text/plain; charset=utf-8"  # shown as text, never as HTML
    assert source.headers["x-content-type-options"] == "nosniff"
    assert "attachment" not in source.headers.get("content-disposition", "")
    eml = admin.get(f"/outbox/{row.id}/raw.eml")
    assert eml.status_code == 200 and eml.content == row.raw
    assert eml.headers["content-type"].startswith("message/rfc822")
    assert eml.headers["content-disposition"] == f'attachment; filename="outbox-{row.id}.eml"'
    for missing in ("999999/raw", "999999/raw.eml", "99999999999999999999/raw"):
        assert admin.get(f"/outbox/{missing}").status_code == 404, missing
