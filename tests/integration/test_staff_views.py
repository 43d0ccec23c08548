"""Staff looking at a message never count as its recipient: the Outbox shows captured mail without
its open pixel and with tracked links pointing at their destinations, and the tracking endpoints
ignore a browser signed in to the staff UI (the Chromium side is in tests/browser/test_outbox_browser.py)."""

from __future__ import annotations

import html
import re

import httpx
from sqlalchemy import text

from tests.support.events import apply_events
from tests.support.outbox import captured_campaign_message
from webapp.core.tokens import make_token

DESTINATION = "https://example.com/offer?utm_source=mail"


async def engagement(db) -> tuple[int, int, int]:
    await apply_events()
    db.expire_all()
    counted = (await db.execute(text("SELECT opened_count, clicked_count FROM campaigns"))).one()
    return (*counted, await db.scalar(text("SELECT count(*) FROM email_events")))


async def test_the_outbox_shows_a_message_without_its_tracking(db, staff, live_server):
    admin = await staff("admin")
    captured = await captured_campaign_message(db, live_server, DESTINATION)
    sent_html = html.unescape(captured.raw.decode())
    assert "/u/o/" in sent_html and "/u/c/" in sent_html  # what the recipient got is tracked

    page = admin.get(f"/outbox/{captured.outbox_id}").text
    shown = html.unescape(re.search(r'srcdoc="([^"]*)"', page).group(1))
    assert "/u/o/" not in shown and "/u/c/" not in shown
    assert f'<a href="{DESTINATION}">Read more</a>' in shown
    assert 'src="data:image/gif;base64,' in shown  # the pixel's place, kept so the layout is the same
    assert "/u/unsubscribe/" in shown  # pages that count nothing stay as they are
    assert await engagement(db) == (0, 0, 0)


async def test_tracking_ignores_a_browser_signed_in_to_the_staff_ui(db, staff, live_server):
    editor = await staff("editor")
    captured = await captured_campaign_message(db, live_server, DESTINATION)
    link_id = await db.scalar(text("SELECT id FROM links"))
    pixel = f"/u/o/{make_token('open', captured.delivery_id)}.gif"
    click = f"/u/c/{make_token('click', captured.delivery_id, link_id)}"

    opened = editor.get(pixel)
    assert opened.status_code == 200 and opened.headers["content-type"] == "image/gif"
    followed = editor.get(click)
    assert followed.status_code == 302 and followed.headers["location"] == DESTINATION
    assert await engagement(db) == (0, 0, 0)

    # Signed out, the same browser is anyone: it counts.
    editor.post("/logout")
    assert editor.get(pixel).status_code == 200
    assert await engagement(db) == (1, 0, 1)
    anonymous = httpx.get(live_server + click)
    assert anonymous.status_code == 302
    assert await engagement(db) == (1, 1, 2)
