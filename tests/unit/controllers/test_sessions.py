"""Two requests of one session at once: the one that only read the session must not erase what
the other stored (an inline check racing a form submit used to lose the flash message)."""

from __future__ import annotations

import asyncio

import httpx
from litestar import Litestar, Request, get, post
from litestar.stores.memory import MemoryStore

from webapp.core.sessions import SessionConfig

COOKIE = "s"


async def _until(condition, what: str) -> None:
    for _ in range(500):
        if await condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"gave up waiting for {what}")


@post("/sign-in", status_code=200)
async def sign_in(request: Request) -> None:
    request.set_session({"user": "ada"})


@get("/slow-read")
async def slow_read(request: Request) -> str:
    """Reads the session, says so, and answers only after another request has stored a change."""
    store = request.app.stores.get("sessions")
    user = request.session.get("user", "")
    await store.set("reader-started", b"1")
    session_id = request.cookies[COOKIE]
    await _until(lambda: _has_flash(store, session_id), "the other request's change")
    return user


async def _has_flash(store, session_id: str) -> bool:
    return b"flash" in (await store.get(session_id) or b"")


@post("/remember", status_code=200)
async def remember(request: Request) -> None:
    request.session["flash"] = "Saved."


@get("/show")
async def show(request: Request) -> dict:
    return dict(request.session)


def client(store: MemoryStore) -> httpx.AsyncClient:
    """The app in this event loop, so two requests really run at once."""
    config = SessionConfig(store="sessions", key=COOKIE, renew_on_access=True)
    app = Litestar([sign_in, slow_read, remember, show], middleware=[config.middleware], stores={"sessions": store})
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_a_request_that_only_read_the_session_does_not_overwrite_a_concurrent_change():
    store = MemoryStore()
    async with client(store) as http:
        await http.post("/sign-in")
        reader = asyncio.create_task(http.get("/slow-read"))
        await _until(lambda: store.exists("reader-started"), "the reader to load the session")
        assert (await http.post("/remember")).status_code == 200
        answer = await reader
        assert answer.text == "ada"
        assert answer.headers.get("set-cookie", "").startswith(f"{COOKIE}=")  # the cookie is still refreshed
        assert (await http.get("/show")).json() == {"user": "ada", "flash": "Saved."}


async def test_changes_are_still_saved_and_an_empty_session_is_not_stored():
    store = MemoryStore()
    async with client(store) as http:
        assert (await http.get("/show")).json() == {}
        assert "set-cookie" not in (await http.get("/show")).headers
        await http.post("/sign-in")
        await http.post("/remember")
        assert (await http.get("/show")).json() == {"user": "ada", "flash": "Saved."}
