"""Who is asking, and may they: session sign-in for the staff UI, Bearer keys for /api, and one
role guard that every staff and API route passes through.

The staff feature knows users and keys; the app hands its look-ups to this module as
PrincipalSources in the app state, so the kernel never imports a feature."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.access import REACHABLE_WHILE_TWO_STEP_DUE, Principal, Role
from webapp.core.db import get_sessionmaker

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# Routes anyone may reach: sign-in, static files, health, the public subscriber pages and archive, API docs.
PUBLIC_PATHS = [
    "^/login",
    "^/static/",
    "^/healthz",
    "^/u/",
    "^/subscribe/",
    "^/archive(/|$)",
    "^/api/docs",
    "^/favicon",
    "^/webhooks/",
]


@dataclass(frozen=True)
class PrincipalSources:
    """How to find who a request acts as: by API key, and by what the staff session holds (None
    for anyone who may not act: revoked keys, deactivated or deleted accounts, sessions that a
    password change ended)."""

    by_api_key: Callable[[AsyncSession, str], Awaitable[Principal | None]]
    by_session: Callable[[AsyncSession, Mapping[str, Any]], Awaitable[Principal | None]]


async def authenticate(connection: ASGIConnection[Any, Any, Any, Any], *, api_key_allowed: bool = False) -> Principal:
    """Bearer keys for /api, the session for the staff UI. Where both are allowed (the campaign
    WebSocket, for programs and for the campaign page) an Authorization header means a key."""
    if connection.url.path.startswith("/api") or (api_key_allowed and connection.headers.get("authorization")):
        return await _api_key(connection)
    return await _session(connection)


class AuthenticationMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        return AuthenticationResult(await authenticate(connection), None)


async def _api_key(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException("Send an API key as 'Authorization: Bearer <key>'.")
    async with get_sessionmaker()() as session, session.begin():
        principal = await _sources(connection).by_api_key(session, token.strip())
    if principal is None:
        raise NotAuthorizedException("The API key is not valid or has been revoked.")
    return principal


async def _session(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    data = connection.session if "session" in connection.scope else {}
    if data.get("user_id") is None:
        raise NotAuthorizedException("Sign in first.")
    async with get_sessionmaker()() as session:
        principal = await _sources(connection).by_session(session, data)
    if principal is None:
        connection.clear_session()
        raise NotAuthorizedException("Sign in first.")
    return principal


def _is_bearer_api_call(scope: Scope) -> bool:
    if not scope["path"].startswith("/api/"):
        return False
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            return value[:7].lower() == b"bearer "
    return False


class BearerExemptCSRFMiddleware(CSRFMiddleware):
    """Litestar's CSRF check on every unsafe request except API calls that carry a Bearer key:
    a browser never adds that header on its own, so such a call cannot be forged by another site.
    It runs after authentication, which refuses /api calls without a key (401) before this."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and _is_bearer_api_call(scope):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _sources(connection: ASGIConnection[Any, Any, Any, Any]) -> PrincipalSources:
    sources: PrincipalSources = connection.app.state.principals
    return sources


class TwoStepDue(PermissionDeniedException):
    """Admins require two-step sign-in and this person has not set it up: only its setup may be reached."""


def role_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Reading needs viewer, changing needs editor, unless the handler asks for more with opt={"role": ...}."""
    principal: Principal | None = connection.scope.get("user")
    if principal is None:
        return  # public route; the middleware let it through
    if principal.two_step_due and not handler.opt.get(REACHABLE_WHILE_TWO_STEP_DUE):
        raise TwoStepDue("Set up two-step sign-in first: it is required for every staff member.")
    required = handler.opt.get("role")
    if required is None:
        method = connection.scope.get("method", "GET")
        required = Role.VIEWER if method in SAFE_METHODS else Role.EDITOR
    if not principal.can(Role(required)):
        raise PermissionDeniedException(
            f"Your role ({principal.role.value}) cannot do this; it needs {Role(required).value}."
        )
