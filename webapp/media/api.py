"""JSON API: /api/media, the media library: list, upload (multipart/form-data) and delete images."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, post
from litestar.datastructures import UploadFile
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Schema

from webapp.core.api import Cursor, Limit, checked_cursor, creator, error_responses, id_parameter, multipart_operation
from webapp.core.config import get_settings
from webapp.core.deps import Db
from webapp.core.errors import ValidationFailed
from webapp.core.http import StaffRequest
from webapp.media import service as media
from webapp.media.models import ALT_LENGTH, MediaFile
from webapp.media.schemas import MediaFileOut, MediaPageOut

FileId = Annotated[int, id_parameter("Media file id.")]
UPLOAD = Schema(
    type=OpenAPIType.OBJECT,
    required=["file"],
    properties={
        "file": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description="A PNG, JPEG, GIF or WebP."),
        "alt": Schema(type=OpenAPIType.STRING, max_length=ALT_LENGTH, description="What the image shows."),
    },
)


def file_out(f: MediaFile) -> MediaFileOut:
    return MediaFileOut(
        id=f.id,
        name=f.name,
        alt=f.alt,
        url=media.url(get_settings().server.public_url, f),
        content_type=f.content_type,
        width=f.width,
        height=f.height,
        size=f.size,
        created_by=f.created_by,
        created_at=f.created_at,
    )


class ApiMediaController(Controller):
    path = "/media"
    tags = ("media",)

    @get(
        "/",
        summary="The media library",
        description="Images, newest first, `limit` at a time; pass `next_cursor` as `cursor` for the next page.",
        responses=error_responses(),
    )
    async def list_files(self, db: Db, limit: Limit = media.PAGE_SIZE, cursor: Cursor = None) -> MediaPageOut:
        found = await media.page(db, checked_cursor(cursor, media.is_cursor), limit)
        return MediaPageOut(items=[file_out(f) for f in found.files], next_cursor=found.next_cursor)

    @post(
        "/",
        status_code=201,
        request_max_body_size=media.MAX_BYTES + media.MB,
        summary="Upload an image",
        description=f"multipart/form-data with `file` (PNG, JPEG, GIF or WebP, at most {media.MAX_BYTES // media.MB} "
        "MB, read by its content) and `alt`. Photos' metadata (EXIF) is removed. Answers with the file and its "
        "`url`, the address to use in content; the same image uploaded again answers with the file already there.",
        responses=error_responses(422),
        operation_class=multipart_operation(UPLOAD),
    )
    async def upload(self, request: StaffRequest, db: Db) -> Response[MediaFileOut]:
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationFailed({"file": "Attach the image as the multipart/form-data field `file`."})
        try:
            data = await upload.read()
        finally:
            await upload.close()
        file = await media.upload(db, data, upload.filename, str(form.get("alt") or ""), creator(request.user))
        return Response(file_out(file), status_code=201)

    @delete(
        "/{file_id:int}",
        summary="Delete an image",
        description="409 while a campaign's or template's content still uses its address.",
        responses=error_responses(404, 409),
    )
    async def delete_file(self, db: Db, file_id: FileId) -> None:
        await media.delete(db, file_id)
