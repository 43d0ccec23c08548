"""Contact imports: one job per uploaded file, and the rows it could not import (for the report)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Identity, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import Base, created_at_column


class ImportStatus(StrEnum):
    DRAFT = "draft"  # uploaded, waiting for its column mapping
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ImportMode(StrEnum):
    ADD = "add"  # add new contacts only; existing ones are left as they are
    UPSERT = "upsert"  # add new contacts and update existing ones
    LIST = "list"  # add to a static list (new contacts are created)
    UNSUBSCRIBE = "unsubscribe"  # mark the listed addresses unsubscribed
    SUPPRESS = "suppress"  # put the listed addresses on the suppression list


class ImportJob(Base):
    __tablename__ = "import_jobs"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'queued', 'running', 'done', 'failed')", name="status"),
        CheckConstraint("mode IN ('add', 'upsert', 'list', 'unsubscribe', 'suppress')", name="mode"),
        Index("ix_import_jobs_created_at_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default=ImportStatus.DRAFT.value, server_default="draft")
    mode: Mapped[str] = mapped_column(String(20), default=ImportMode.ADD.value, server_default="add")
    filename: Mapped[str] = mapped_column(String(255))  # as uploaded, for people
    stored_name: Mapped[str] = mapped_column(String(100))  # the file under MAILROOM_UPLOAD_DIR
    file_format: Mapped[str] = mapped_column(String(10))  # csv or xlsx
    file_size: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    encoding: Mapped[str] = mapped_column(String(20), default="", server_default="")
    delimiter: Mapped[str] = mapped_column(String(1), default="", server_default="")
    headers: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    # One target per column, in column order: a contact field, "custom:<name>" or "" (ignored).
    mapping: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    list_id: Mapped[int | None] = mapped_column(ForeignKey("email_lists.id", ondelete="SET NULL"))
    suppress_reason: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # Rows in the file (an estimate until the job is done), rows dealt with so far, and the outcome.
    total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    processed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    inserted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    skipped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # duplicates included
    duplicates: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rejected: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Rows per chunk (fixed at the first start) and the chunks loaded so far, in the order loaders committed them.
    chunk_rows: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    loaded_chunks: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list, server_default="{}")
    error: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_by: Mapped[str] = mapped_column(String(320), default="", server_default="")
    created_at: Mapped[datetime] = created_at_column()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE.value, ImportStatus.FAILED.value)


class ImportReject(Base):
    """A row of the file that was not imported: rejected (invalid) or skipped as a duplicate of an
    earlier row. `cells` are the row's values as read, for the downloadable report."""

    __tablename__ = "import_rejects"
    __table_args__ = (CheckConstraint("kind IN ('rejected', 'duplicate')", name="kind"),)

    job_id: Mapped[int] = mapped_column(ForeignKey("import_jobs.id", ondelete="CASCADE"), primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(Text, default="", server_default="")
    reason: Mapped[str] = mapped_column(Text)
    cells: Mapped[list[Any]] = mapped_column(JSONB, default=list, server_default="[]")
