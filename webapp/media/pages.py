"""Staff UI: the media library (read by all; editors upload and delete)."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery
from litestar.plugins.flash import flash
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.config import get_settings
from webapp.core.deps import Db
from webapp.core.errors import Conflict, ValidationFailed
from webapp.core.forms import after_change
from webapp.core.http import AnyResponse, StaffRequest
from webapp.media import service as media
from webapp.media.models import ALT_LENGTH, MediaFile

MAX_FILES = 20  # in one upload
UPLOAD_LIMIT = MAX_FILES * media.MAX_BYTES + media.MB  # the form's fields besides the files


def _shown(files: list[MediaFile]) -> list[tuple[MediaFile, str, str]]:
    """Each file with its address and the tag that shows it in an email."""
    public_url = get_settings().server.public_url
    return [(f, media.url(public_url, f), media.img_html(public_url, f)) for f in files]


async def _page(
    db: AsyncSession,
    cursor: str | None = None,
    *,
    alt: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    found = await media.page(db, cursor)
    context = {
        "files": _shown(found.files),
        "next_cursor": found.next_cursor,
        "cursor": cursor or "",
        "alt": alt,
        "errors": errors or {},
        "alt_length": ALT_LENGTH,
        "max_mb": media.MAX_BYTES // media.MB,
        "max_files": MAX_FILES,
    }
    return Template("media/index.html", context=context, status_code=status_code)


class MediaController(Controller):
    path = "/media"

    @get("/", name="media")
    async def index(self, db: Db, cursor: FromQuery[str | None] = None) -> Template:
        return await _page(db, cursor)

    @get("/picker")
    async def picker(self, db: Db) -> Template:
        """The template editor's image picker: the newest images, each a button inserting its tag."""
        found = await media.page(db)
        return Template(
            "media/_picker.html", context={"files": _shown(found.files), "more": found.next_cursor is not None}
        )

    @post("/", status_code=200, request_max_body_size=UPLOAD_LIMIT)
    async def upload(self, request: StaffRequest, db: Db) -> AnyResponse:
        form = await request.form()
        uploads = [u for u in form.getall("file", []) if isinstance(u, UploadFile) and u.filename][:MAX_FILES]
        alt = str(form.get("alt") or "")
        if not uploads:
            return await _page(db, alt=alt, errors={"file": media.NO_FILE}, status_code=422)
        stored, refused = [], []
        for upload in uploads:
            try:
                stored.append(await media.upload(db, await upload.read(), upload.filename, alt, request.user.name))
            except ValidationFailed as exc:
                if "alt" in exc.errors:
                    return await _page(db, alt=alt, errors=exc.errors, status_code=422)
                refused.append(f"{upload.filename}: {exc.errors['file']}")
            finally:
                await upload.close()
        if refused:
            await db.commit()  # the good files stay uploaded, and the message says which they are
            done = f"Uploaded {', '.join(f.name for f in stored)}. Not uploaded: " if stored else ""
            errors = {"file": done + " ".join(refused)}
            return await _page(db, alt=alt, errors=errors, status_code=422)
        flash(request, f"Uploaded {', '.join(f.name for f in stored)}.", "success")
        return after_change(request, "/media")

    @post("/{file_id:int}/delete")
    async def delete(self, request: StaffRequest, db: Db, file_id: FromPath[int]) -> AnyResponse:
        try:
            file = await media.delete(db, file_id)
        except Conflict as exc:
            flash(request, exc.message, "error")
        else:
            flash(request, f"Deleted {file.name}.", "success")
        return after_change(request, "/media")
