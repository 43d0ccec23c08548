"""The media library: images staff upload once and use in templates and campaigns, each served at
an address of its own that never changes (its content's hash: /u/media/<key>.<ext>), so mail
clients and their image proxies may keep it for ever. The same image uploaded again is the same
file. A file still used in a campaign's or template's content is not deleted: emails already sent
would show a broken image."""

from __future__ import annotations

import hashlib
import posixpath

from markupsafe import escape
from sqlalchemy.ext.asyncio import AsyncSession

from webapp.core.errors import Conflict, NotFound, ValidationFailed
from webapp.core.validation import is_valid_id
from webapp.media import queries
from webapp.media.models import ALT_LENGTH, KEY_LENGTH, NAME_LENGTH, MediaFile
from webapp.media.queries import MediaPage
from webapp.media.service.images import EXTENSIONS, ImageRefused, clean

MB = 1 << 20
MAX_BYTES = 5 * MB  # Mailchimp's limit too: more than an email image should ever be
PAGE_SIZE = 48
TOO_BIG = f"The file is larger than {MAX_BYTES // MB} MB: save it smaller (an email image rarely needs 1 MB)."
ALT_TOO_LONG = f"At most {ALT_LENGTH} characters."
NO_FILE = "Choose an image file to upload."


def path(file: MediaFile) -> str:
    """The file's address on this site."""
    return f"/u/media/{file.key}.{EXTENSIONS[file.content_type]}"


def url(public_url: str, file: MediaFile) -> str:
    """The file's address as emails link it."""
    return public_url.rstrip("/") + path(file)


def img_html(public_url: str, file: MediaFile) -> str:
    """The tag that shows the file in an email: at its own width, never wider than the message."""
    return (
        f'<img src="{escape(url(public_url, file))}" alt="{escape(file.alt)}" width="{file.width}" '
        'style="max-width:100%;height:auto">'
    )


def _name(filename: str) -> str:
    name = posixpath.basename(filename.replace("\\", "/")).strip()
    return "".join(ch for ch in name if ch.isprintable())[:NAME_LENGTH] or "image"


async def upload(session: AsyncSession, data: bytes, filename: str, alt: str, created_by: str) -> MediaFile:
    """Store an image (checked and cleaned: services/images.py); the file already in the library
    when it holds the same image. ValidationFailed naming `file` or `alt`."""
    alt = alt.strip()
    if len(alt) > ALT_LENGTH:
        raise ValidationFailed({"alt": ALT_TOO_LONG})
    if not data:
        raise ValidationFailed({"file": NO_FILE})
    if len(data) > MAX_BYTES:
        raise ValidationFailed({"file": TOO_BIG})
    try:
        image = await clean(data)
    except ImageRefused as exc:
        raise ValidationFailed({"file": str(exc)}) from None
    key = hashlib.sha256(image.data).hexdigest()[:KEY_LENGTH]
    if (existing := await queries.by_key(session, key)) is not None:
        return existing
    file = MediaFile(
        key=key,
        name=_name(filename),
        alt=alt,
        content_type=image.content_type,
        width=image.width,
        height=image.height,
        size=len(image.data),
        data=image.data,
        created_by=created_by,
    )
    return await queries.add(session, file)


async def page(session: AsyncSession, cursor: str | None = None, limit: int = PAGE_SIZE) -> MediaPage:
    return await queries.newest(session, limit=limit, cursor=cursor)


def is_cursor(cursor: str) -> bool:
    return queries.is_cursor(cursor)


async def get_file(session: AsyncSession, file_id: int) -> MediaFile:
    file = await session.get(MediaFile, file_id) if is_valid_id(file_id) else None
    if file is None:
        raise NotFound(f"Media file {file_id} does not exist.")
    return file


async def content(session: AsyncSession, name: str) -> tuple[str, bytes]:
    """(content type, bytes) of /u/media/<name>; NotFound for any other name."""
    key, _, extension = name.partition(".")
    found = await queries.content(session, key) if len(key) == KEY_LENGTH else None
    if found is None or EXTENSIONS[found.content_type] != extension:
        raise NotFound("No such image.")
    return found.content_type, found.data


async def delete(session: AsyncSession, file_id: int) -> MediaFile:
    """Conflict naming where it is used, if anywhere."""
    file = await get_file(session, file_id)
    if used := await queries.used_in(session, path(file)):
        names = ", ".join(f"{kind} “{name}”" for kind, _, name in used[:5])
        raise Conflict(f"Still used in {names}: emails showing it would show a broken image. Remove it there first.")
    await queries.remove(session, file.id)
    return file
