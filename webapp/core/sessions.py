"""Staff sessions in Redis, written back only when a request changed them.

Litestar's server-side backend saves the session at the end of every request. Two requests of one
page then race: an inline check sent as the user leaves a field, and the form's submit that stores
a flash message. Whichever ends last saves the copy it loaded, and the other's change is gone.
Here a request that did not change the session only refreshes the cookie; the entry's lifetime is
renewed when it is read (renew_on_access), so an active user stays signed in as before.

Litestar also keeps whatever session id the browser sends, even one it never issued, and keeps it
across sign-in: a cookie planted before sign-in (session fixation) would then be signed in too.
Here an id the store does not know is never adopted, and signing in or out moves the session to a
new id (renew_session_id), deleting the old entry.
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
RENEW = "mailroom.session_renewed_as"  # the new id, once one is made for this request
SESSION_COOKIE, SESSION_STORE = "mailroom_session", "sessions"


def renew_session_id(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Store this request's session under a new id (at sign-in and sign-out)."""
    connection.scope.setdefault("state", {}).setdefault(RENEW, None)


def _sent_id(connection: ASGIConnection[Any, Any, Any, Any], key: str) -> str | None:
    session_id = connection.cookies.get(key)
    return session_id if session_id and session_id != "null" else None


class ChangedOnlySessionBackend(ServerSideSessionBackend):
    async def load_from_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if session_id := _sent_id(connection, self.config.key):
            raw = await self.get(session_id, store=self.config.get_store_from_app(connection.scope["app"]))
            if raw is None:
                renew_session_id(connection)  # an id this server did not issue, or whose session ended
            else:
                data = self.deserialize_data(raw)
        connection.scope.setdefault("state", {})[LOADED] = self.serialize_data(data, connection.scope)
        return data

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        state = connection.scope.setdefault("state", {})
        if RENEW not in state:
            return super().get_session_id(connection)
        if state[RENEW] is None:
            state[RENEW] = self.generate_session_id()
        renewed: str = state[RENEW]
        return renewed

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        loaded = connection.scope.get("state", {}).get(LOADED)
        unchanged = (
            scope_session is not Empty
            and loaded is not None
            and self.serialize_data(scope_session, connection.scope) == loaded
        )
        renewing = RENEW in connection.scope.get("state", {})
        if renewing and (old_id := _sent_id(connection, self.config.key)):
            await self.delete(old_id, store=self.config.get_store_from_app(connection.scope["app"]))
        if renewing and not scope_session:
            scope_session = Empty  # nothing to keep under a new id: the stale cookie is cleared instead
        if renewing or not unchanged:
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
