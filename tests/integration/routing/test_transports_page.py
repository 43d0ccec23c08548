"""The transports page (admins only): each transport's health now (in rotation, share lowered, or
out of rotation and why), and its volume, rates and errors over time as charts and an hourly
table."""

from __future__ import annotations

from tests.support.campaigns import smtp_server
from webapp.core.redis import get_redis
from webapp.routing.service import hours
from webapp.routing.service.health import Health


async def test_the_page_is_for_admins_only(staff):
    assert (await staff("editor")).get("/settings/transports").status_code == 403


async def test_an_admin_sees_each_transports_health_now(staff, db):
    good, bad = await smtp_server(db, 2525, name="Good relay"), await smtp_server(db, 2526, name="Bad relay")
    await db.commit()
    health = Health(get_redis())
    for _ in range(40):
        health.record(f"smtp:{good.id}", "sent", 0.2)
        health.record(f"smtp:{bad.id}", "error")
    await health.flush()  # as the worker does within a second
    admin = await staff("admin")
    page = admin.get("/settings/transports").text
    good_row = page.split(f'id="transport-smtp-{good.id}"')[1].split("</tr>")[0]
    bad_row = page.split(f'id="transport-smtp-{bad.id}"')[1].split("</tr>")[0]
    assert "Good relay" in good_row and "in rotation" in good_row and "0.2 s" in good_row
    assert "Bad relay" in bad_row and "out of rotation" in bad_row and "error rate 100.0 %" in bad_row
    assert "not judged yet" not in good_row + bad_row

    new = await smtp_server(db, 2527, name="New relay")
    await db.commit()
    for _ in range(3):
        health.record(f"smtp:{new.id}", "error")
    await health.flush()
    page = admin.get("/settings/transports").text
    new_row = page.split(f'id="transport-smtp-{new.id}"')[1].split("</tr>")[0]
    assert "in rotation" in new_row and "not judged yet: 3 of the 20 messages it takes" in new_row  # 100 % errors

    new.is_active = False  # switched off on its settings page: it sends nothing, whatever its health
    await db.commit()
    page = admin.get("/settings/transports").text
    off_row = page.split(f'id="transport-smtp-{new.id}"')[1].split("</tr>")[0]
    assert "switched off" in off_row and "in rotation" not in off_row and "not judged yet" not in off_row
    rule_form = admin.get("/settings/routing/new").text
    assert "New relay (switched off)</option>" in rule_form and "Good relay</option>" in rule_form


async def test_an_admin_sees_volume_and_rates_over_time(staff, db):
    relay = await smtp_server(db, 2525, name="Office relay")
    await db.commit()
    health = Health(get_redis())
    for outcome, n in (("sent", 18), ("deferred", 2)):
        for _ in range(n):
            health.record(f"smtp:{relay.id}", outcome, 1.0)
    await health.flush()
    await hours.keep_hours(db)
    await db.commit()
    page = (await staff("admin")).get("/settings/transports").text
    assert f'id="transport-smtp-{relay.id}-volume"' in page and "Office relay: messages by hour" in page
    assert f'id="transport-smtp-{relay.id}-rates"' in page
    table = page.split(f'id="transport-smtp-{relay.id}-hours"')[1].split("</table>")[0]
    assert '<td class="num">18</td>' in table and '<td class="num">2</td>' in table and "10.0 %" in table


async def test_without_traffic_the_page_says_so(staff, db):
    await smtp_server(db, 2525, name="Quiet relay")
    await db.commit()
    page = (await staff("admin")).get("/settings/transports").text
    assert "Quiet relay" in page and "Nothing sent through it in this period." in page


async def test_a_period_the_page_does_not_offer_shows_the_default_one(staff, db):
    await smtp_server(db, 2525, name="Relay")
    await db.commit()
    admin = await staff("admin")
    assert '<option value="7" selected>' in admin.get("/settings/transports?days=7").text
    for typed in ("abc", "1.5", "0", "3", ""):
        response = admin.get(f"/settings/transports?days={typed}")
        assert response.status_code == 200 and '<option value="2" selected>' in response.text, typed
