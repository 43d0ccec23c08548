"""Staff sessions in Redis, written back only when a request changed them.

Litestar's server-side backend saves the session at the end of every request. Two requests of one
page then race: an inline check sent as the user leaves a field, and the form's submit that stores
a flash message. Whichever ends last saves the copy it loaded, and the other's change is gone.
Here a request that did not change the session only refreshes the cookie; the entry's lifetime is
renewed when it is read (renew_on_access), so an active user stays signed in as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import Empty, Message, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items

LOADED = "mailroom.session_as_loaded"
SESSION_COOKIE, SESSION_STORE = "mailroom_session", "sessions"


class ChangedOnlySessionBackend(ServerSideSessionBackend):
    async def load_from_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        connection.scope.setdefault("state", {})[LOADED] = self.serialize_data(data, connection.scope)
        return data

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        loaded = connection.scope.get("state", {}).get(LOADED)
        unchanged = (
            scope_session is not Empty
            and loaded is not None
            and self.serialize_data(scope_session, connection.scope) == loaded
        )
        if not unchanged:
            await super().store_in_message(scope_session, message, connection)
        elif scope_session and (session_id := connection.cookies.get(self.config.key)):
            cookie_params = dict(
                extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys())
            )
            MutableScopeHeaders.from_message(message).add(
                "Set-Cookie", Cookie(value=session_id, key=self.config.key, **cookie_params).to_header(header="")
            )


@dataclass
class SessionConfig(ServerSideSessionConfig):
    _backend_class = ChangedOnlySessionBackend


async def signed_in_staff(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """Whether the request comes from a browser signed in to the staff UI, for the public routes,
    where the session middleware does not run: a staff member opening a tracked link is not the
    recipient and must not count as one."""
    session_id = connection.cookies.get(SESSION_COOKIE)
    if not session_id:
        return False
    raw = await connection.app.stores.get(SESSION_STORE).get(session_id)
    return raw is not None and ServerSideSessionBackend.deserialize_data(raw).get("user_id") is not None
