"""The media library's images, kept in the database (bytes and all): backed up with everything else,
and served the same by every web host without shared storage."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Identity, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import Base, created_at_column

KEY_LENGTH = 32  # hex digits of the content's SHA-256: the public address
NAME_LENGTH = 200
ALT_LENGTH = 300


class MediaFile(Base):
    __tablename__ = "media_files"
    __table_args__ = (Index("ix_media_files_created_at_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))  # the uploaded file's name
    alt: Mapped[str] = mapped_column(String(ALT_LENGTH), default="", server_default="")
    content_type: Mapped[str] = mapped_column(String(50))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)  # bytes, as stored
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[str] = mapped_column(String(320), default="", server_default="")
    created_at: Mapped[datetime] = created_at_column()
