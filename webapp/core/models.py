"""The declarative base every feature's models share, and what they have in common."""

from __future__ import annotations

import importlib
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def created_at_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


def load_all_models() -> type[Base]:
    """Import every feature's models module, so Base.metadata holds the whole schema (Alembic,
    schema checks) whichever features the caller happened to import."""
    for models in sorted(Path(__file__).resolve().parents[1].glob("*/models.py")):
        importlib.import_module(f"webapp.{models.parent.name}.models")
    return Base


# A partition of a partitioned table: <table>_pYYYYMM (a month) or <table>_other (the default).
PARTITION_NAME = re.compile(r"^(?P<parent>\w+)_(p\d{6}|other)$")


def is_modelled(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's include_name filter: a partition of a modelled table is no table of its own (the
    scheduler makes and drops them), so comparing the schema with the models leaves it out."""
    match = PARTITION_NAME.match(name or "") if type_ == "table" else None
    return match is None or match["parent"] not in Base.metadata.tables
