"""Rendering the subscriber-facing pages in the subscriber's language (see core/i18n.py).

Every public page shows who is writing (public_base.html's footer): the routes load the
organisation's settings through the settings feature and hand them over as `org`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from litestar import Response
from litestar.enums import MediaType

from webapp.core import i18n
from webapp.core.http import AnyResponse, PublicRequest

NO_STORE = {"Cache-Control": "no-store", "Vary": "Accept-Language", "X-Robots-Tag": "noindex"}


class Sender(Protocol):
    """What a public page shows about the organisation (settings' OrgSettings is one)."""

    @property
    def organisation_name(self) -> str: ...

    @property
    def postal_address(self) -> str: ...


# What subscribers reach: their errors are public pages, in their language, with no way into the staff UI.
SUBSCRIBER_PATHS = ("/u/", "/subscribe/", "/archive")


@dataclass(frozen=True)
class Unnamed:
    """The organisation where its settings cannot be loaded (an error page): no name, no address."""

    organisation_name: str = ""
    postal_address: str = ""


def language_of(request: PublicRequest, requested: Any = None, contact_language: Any = None) -> str:
    """?lang= (or a form's lang field), then the contact's language, then Accept-Language."""
    return i18n.choose(
        requested or request.query_params.get("lang"), contact_language, request.headers.get("accept-language")
    )


def page(
    template: str,
    language: str,
    org: Sender,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> AnyResponse:
    html = i18n.render(template, language, org=org, **context)
    return Response(
        html,
        status_code=status_code,
        media_type=MediaType.HTML,
        headers={**NO_STORE, "Content-Language": language, **(headers or {})},
    )


def client_ip(request: PublicRequest) -> str:
    return request.client.host if request.client else "unknown"
