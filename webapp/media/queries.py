"""The media library's SQL: files newest first (keyset on created_at, id), one file by its public
key or id, and where a file's address appears in campaigns' and templates' content."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Row, delete, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from webapp.campaigns.models import Campaign
from webapp.core.cursors import decode_cursor
from webapp.core.queries import NEWEST_FIRST, newest_first
from webapp.media.models import MediaFile
from webapp.templates.models import EmailTemplate


def is_cursor(cursor: str) -> bool:
    return decode_cursor(cursor, *NEWEST_FIRST) is not None


@dataclass(frozen=True)
class MediaPage:
    files: list[MediaFile]  # without their bytes
    next_cursor: str | None


async def newest(session: AsyncSession, *, limit: int, cursor: str | None) -> MediaPage:
    query = select(MediaFile).options(defer(MediaFile.data))
    files, next_cursor = await newest_first(
        session, query, MediaFile.created_at, MediaFile.id, limit=limit, cursor=cursor
    )
    return MediaPage(files, next_cursor)


async def by_key(session: AsyncSession, key: str) -> MediaFile | None:
    return await session.scalar(select(MediaFile).where(MediaFile.key == key))


async def content(session: AsyncSession, key: str) -> Row[str, bytes] | None:
    """(content type, bytes) of the file with this public key."""
    found = await session.execute(select(MediaFile.content_type, MediaFile.data).where(MediaFile.key == key))
    return found.first()


async def add(session: AsyncSession, file: MediaFile) -> MediaFile:
    session.add(file)
    await session.flush()
    return file


async def remove(session: AsyncSession, file_id: int) -> None:
    await session.execute(delete(MediaFile).where(MediaFile.id == file_id))


async def used_in(session: AsyncSession, address: str) -> list[tuple[str, int, str]]:
    """(kind, id, name) of the campaigns and templates whose content has `address`; automation
    emails are campaigns too. `address` is matched as itself (% and _ escaped)."""
    pattern = "%" + address.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    campaigns = select(literal("campaign"), Campaign.id, Campaign.name).where(
        Campaign.html_content.like(pattern) | Campaign.text_content.like(pattern)
    )
    templates = select(literal("template"), EmailTemplate.id, EmailTemplate.name).where(
        EmailTemplate.html_content.like(pattern) | EmailTemplate.text_content.like(pattern)
    )
    rows = await session.execute(union_all(campaigns, templates).limit(20))
    return [(kind, row_id, name) for kind, row_id, name in rows.tuples()]
