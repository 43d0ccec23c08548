"""Every routed response says how long the app took (bench/ relies on it)."""

import re

import httpx


async def test_responses_carry_server_timing(live_server):
    response = httpx.get(live_server + "/healthz")
    assert response.status_code == 200
    assert re.fullmatch(r"app;dur=\d+\.\d", response.headers["server-timing"])
