"""The media library's images, where emails and pages load them: /u/media/<key>.<ext>. The key
is the content's hash, so an address always shows the same bytes and may be cached for ever, and a
client that has it is answered 304 without a database read."""

from __future__ import annotations

from litestar import Controller, Response, route
from litestar.params import FromPath

from webapp.core.deps import Db
from webapp.core.http import GET_OR_HEAD, PublicRequest
from webapp.media import service as media

CACHED = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    "Cross-Origin-Resource-Policy": "cross-origin",  # shown in mail clients and on other sites
}


class MediaFilesController(Controller):
    path = "/u/media"
    include_in_schema = False

    @route("/{name:str}", http_method=GET_OR_HEAD, name="media-file")
    async def file(self, request: PublicRequest, db: Db, name: FromPath[str]) -> Response[bytes]:
        etag = f'"{name.partition(".")[0]}"'
        if request.headers.get("if-none-match") == etag:
            return Response(b"", status_code=304, headers={**CACHED, "ETag": etag})
        content_type, data = await media.content(db, name)
        return Response(data, media_type=content_type, headers={**CACHED, "ETag": etag})
