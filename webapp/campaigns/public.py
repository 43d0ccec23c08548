"""A message's web version, where {{ web_version_url }} leads: the message as its recipient got it
(their A/B variant, personalisation, tracked links and footer), rendered again from the campaign's
copy of the content. Staff wrote that HTML, so it is served sandboxed (core/headers.py); the open
pixel in it counts a view as an open, as a mail app's would."""

from __future__ import annotations

from litestar import Controller, Response, route
from litestar.enums import MediaType
from litestar.params import FromPath

from webapp.campaigns.service import web_version
from webapp.core.config import get_settings
from webapp.core.deps import Db
from webapp.core.errors import NotFound
from webapp.core.headers import WEB_VERSION_CSP
from webapp.core.http import GET_OR_HEAD
from webapp.core.public_pages import NO_STORE
from webapp.core.tokens import LINK_NOT_VALID, TEST_DELIVERY_ID, read_token
from webapp.delivery.sent_copies import Sent, as_sent
from webapp.templates.service.rendering import RenderError

HEADERS = {**NO_STORE, "Content-Security-Policy": WEB_VERSION_CSP, "Referrer-Policy": "no-referrer"}


class WebVersionController(Controller):
    path = "/u/view"
    include_in_schema = False

    @route("/{token:str}", http_method=GET_OR_HEAD, name="web-version")
    async def web_version(self, db: Db, token: FromPath[str]) -> Response[str]:
        numbers = read_token("unsubscribe", token, 1)  # the message's own: its holder may see it again
        if numbers is None:
            raise NotFound(LINK_NOT_VALID)
        if numbers[0] == TEST_DELIVERY_ID:
            raise NotFound(web_version.TEST)
        sent = await web_version.sent_to(db, numbers[0])
        message = Sent(sent.delivery.id, sent.delivery.ab_variant_id, sent.contact)
        (copy,) = await as_sent(db, sent.campaign, [message], get_settings().server.public_url, whole=True)
        if isinstance(copy, RenderError):
            raise NotFound(web_version.GONE)
        return Response(copy.html, media_type=MediaType.HTML, headers=HEADERS)
