"""Rendering the subscriber-facing pages in the subscriber's language (see services/i18n.py)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.enums import MediaType
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core import i18n
from webapp.settings.service import organisation as org_settings

NO_STORE = {"Cache-Control": "no-store", "Vary": "Accept-Language", "X-Robots-Tag": "noindex"}


def language_of(request: Request, requested: Any = None, contact_language: Any = None) -> str:
    """?lang= (or a form's lang field), then the contact's language, then Accept-Language."""
    return i18n.choose(
        requested or request.query_params.get("lang"), contact_language, request.headers.get("accept-language")
    )


async def page(
    db: AsyncSession,
    template: str,
    language: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    org = await org_settings.load(db)
    html = i18n.render(template, language, org=org, **context)
    return Response(
        html,
        status_code=status_code,
        media_type=MediaType.HTML,
        headers={**NO_STORE, "Content-Language": language, **(headers or {})},
    )


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
