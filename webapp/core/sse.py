"""What the live pages' server-sent event streams share (a campaign's progress, an import's): how
often a quiet stream says it is still there, a partial rendered as its Template response would be,
and closing the stream's Redis subscription once the client has gone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from litestar import Request
from litestar.response import Template
from redis.asyncio.client import PubSub

HEARTBEAT_SECONDS = 15.0  # a comment this often keeps proxies from closing a quiet stream


def render(request: Request[Any, Any, Any], name: str, **context: Any) -> str:
    """A partial rendered like a Template response (with request and csrf_input), for streaming."""
    full = Template(name, context=context).create_template_context(request)
    engine = request.app.template_engine
    if engine is None:
        raise RuntimeError("The app has no template engine to render streamed partials with.")
    html: str = engine.get_template(name).render(**full)
    return html


async def close(pubsub: PubSub) -> None:
    """Unsubscribe and give the connection back, also while the connection's task is being cancelled."""
    aclose: Callable[[], Awaitable[None]] = pubsub.aclose  # redis-py leaves aclose unannotated
    with anyio.CancelScope(shield=True):
        await aclose()
