"""Hostile templates against the real web server: previews (template editor and campaign wizard),
saves and test sends answer with a message naming the limit, the server answers others meanwhile,
and its memory stays its own (the work happens in renderer processes)."""

from __future__ import annotations

import html
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import httpx
import psutil
from sqlalchemy import func, select

from tests.support.campaigns import audience, ready_campaign
from tests.support.hostile import HUGE_LIST, HUGE_PADDING, LONG_CHAIN, LOOPS_FOR_EVER, NESTED, RECURSES, TWO_LOOPS
from webapp.templates.models import EmailTemplate

HX = {"HX-Request": "true"}
SLOW = {TWO_LOOPS: "time limit", LOOPS_FOR_EVER: "time limit"}
BIG = {HUGE_LIST: "too large", HUGE_PADDING: "memory limit"}
WEB_PEAK_MB = 400  # the web process's largest resident size ever (it starts at about 150 MB)


def form(html_content: str) -> dict[str, str]:
    return {
        "name": "Hostile",
        "subject": "s",
        "template_type": "marketing",
        "text_content": "",
        "html_content": html_content,
    }


def while_answering_healthz(live_server: str, request) -> tuple[httpx.Response, int]:
    """Send `request()` and, until it is answered, health checks: the response and how many of
    them the server answered meanwhile (each must come back within the bound, or the test fails)."""
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(request)
        answered = 0
        while not pending.done():
            assert httpx.get(live_server + "/healthz", timeout=10).status_code == 200
            answered += 1
        return pending.result(), answered


def web_process(live_server: str) -> psutil.Process:
    port = urlparse(live_server).port
    (pid,) = {c.pid for c in psutil.net_connections("tcp") if c.laddr.port == port and c.status == "LISTEN"}
    return psutil.Process(pid)


def peak_rss_mb(process: psutil.Process) -> int:
    with open(f"/proc/{process.pid}/status") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmHWM:"))


async def test_slow_previews_name_the_time_limit_while_the_server_answers_others(staff, live_server):
    client = await staff("editor")
    for source, limit in SLOW.items():
        response, answered = while_answering_healthz(
            live_server, lambda s=source: client.post("/templates/preview", data=form(s), headers=HX, timeout=60)
        )
        assert answered >= 3  # the event loop served health checks all along
        assert response.status_code == 200 and limit in html.unescape(response.text), response.text[:2000]


async def test_memory_hungry_previews_name_the_limit_and_the_web_process_stays_small(staff, live_server):
    client = await staff("editor")
    web = web_process(live_server)
    for source, limit in BIG.items():
        response = client.post("/templates/preview", data=form(source), headers=HX, timeout=60)
        assert peak_rss_mb(web) < WEB_PEAK_MB
        assert response.status_code == 200 and limit in html.unescape(response.text), response.text[:2000]
    assert web.is_running() and web_process(live_server).pid == web.pid


async def test_the_campaign_wizard_preview_names_the_limit(staff, db, live_server):
    campaign = await ready_campaign(db, [(await audience(db, 1)).id])
    await db.commit()
    client = await staff("editor")
    response, answered = while_answering_healthz(
        live_server,
        lambda: client.post(
            f"/campaigns/{campaign.id}/content/preview",
            data={"html_content": LOOPS_FOR_EVER, "text_content": ""},
            headers=HX,
            timeout=60,
        ),
    )
    assert answered >= 3
    assert response.status_code == 200 and "time limit" in html.unescape(response.text), response.text[:2000]


async def test_a_template_that_recurses_without_end_is_named_by_preview_and_save(staff, api, db):
    editor = await staff("editor")
    preview = editor.post("/templates/preview", data=form(RECURSES), headers=HX, timeout=60)
    assert preview.status_code == 200 and "calls itself too deeply" in html.unescape(preview.text)
    saved = editor.post("/templates/", data=form(RECURSES), timeout=60)
    assert saved.status_code == 422 and "calls itself too deeply" in html.unescape(saved.text)
    assert RECURSES in html.unescape(saved.text)  # what was typed is kept
    assert await db.scalar(select(func.count()).select_from(EmailTemplate)) == 0
    created = editor.post("/templates/", data=form("<p>fine</p>"), timeout=60)
    assert created.status_code == 303
    template_id = int(created.headers["location"].rsplit("/", 1)[1])
    changed = editor.post(f"/templates/{template_id}", data=form(RECURSES), timeout=60)
    assert changed.status_code == 422 and "calls itself too deeply" in html.unescape(changed.text)
    db.expire_all()
    assert (await db.get(EmailTemplate, template_id)).html_content == "<p>fine</p>"  # left as it was
    client = await api("editor")
    for source, named in (
        (RECURSES, "calls itself too deeply"),
        (LOOPS_FOR_EVER, "time limit"),
        (NESTED, "too deeply"),
        (LONG_CHAIN, "more than 20,000 pieces of template syntax"),
    ):
        created = client.post("/api/templates", json={"name": "Loop", "html_content": source}, timeout=60)
        assert created.status_code == 422, created.text[:500]
        (error,) = created.json()["errors"]
        assert error["field"] == "html_content" and named in error["message"]


async def test_a_test_send_of_a_hostile_template_names_the_limit(staff, live_server):
    client = await staff("editor")
    response, answered = while_answering_healthz(
        live_server,
        lambda: client.post(
            "/templates/test-send", data={**form(LOOPS_FOR_EVER), "recipients": "me@example.com"}, timeout=60
        ),
    )
    assert answered >= 3
    assert response.status_code == 422 and "time limit" in html.unescape(response.text), response.text[:2000]
