"""Contacts: one row per address, with tags and free-form custom fields."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, column_property, mapped_column

from webapp.core.models import Base
from webapp.suppression.models import EMAIL_HASH_SQL


class ContactStatus(StrEnum):
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    PENDING = "pending"  # signed up on a public form and has not confirmed any subscription yet


# Word-prefix search over email (split at punctuation), names and company. The address is not
# parsed as typed too: a search word is letters and digits only, and the split address gives
# every lexeme such a word can find (tests/integration/test_contact_search_vector.py); parsing it
# twice cost a tenth of an import's database time.
# Full-text search is in core PostgreSQL, so it works on the embedded server too (no pg_trgm there).
SEARCH_VECTOR_SQL = (
    "to_tsvector('simple'::regconfig, "
    "translate(email, '@.+_-', '     ') || ' ' || first_name || ' ' || last_name || ' ' || company)"
)

NAMELESS_SQL = "first_name = '' AND last_name = ''"
SORT_NAME_SQL = "lower(COALESCE(NULLIF(last_name, ''), first_name))"  # the last name, else the first
PROFILE_FIELDS = ("first_name", "last_name", "phone", "company", "job_title", "location")


class ContactSends(Base):
    """How many messages a contact was sent. A narrow row of its own: the send pipeline adds to it
    for every recipient of every batch, and on the contact's wide row each addition wrote a new
    version of the row into all ten of its indexes (never a HOT update), so that every campaign
    rewrote its recipients' rows. A contact never sent anything has no row."""

    __tablename__ = "contact_sends"

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    emails_sent: Mapped[int] = mapped_column(Integer)


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'unsubscribed', 'bounced', 'complained', 'pending')", name="status"),
        Index("uq_contacts_email_lower", func.lower(text("email")), unique=True),
        Index("ix_contacts_date_added_id", "date_added", "id"),
        Index("ix_contacts_last_updated_id", "last_updated", "id"),
        # The A-Z sorts (queries/filters.py): contacts without a name (company) after the rest.
        Index(
            "ix_contacts_name_id", text(f"({NAMELESS_SQL})"), text(SORT_NAME_SQL), func.lower(text("first_name")), "id"
        ),
        Index("ix_contacts_company_id", text("(company = '')"), func.lower(text("company")), "id"),
        # Partial: a page filtered to the common value (active, switched on) walks the date index, where
        # nearly every row matches; so new contacts (all of an import's) enter neither.
        Index(
            "ix_contacts_status_date_added_id",
            "status",
            "date_added",
            "id",
            postgresql_where=text("status <> 'active'"),
        ),
        Index(
            "ix_contacts_active_date_added_id",
            "is_active",
            "date_added",
            "id",
            postgresql_where=text("is_active IS false"),
        ),
        Index("ix_contacts_tags", "tags", postgresql_using="gin"),
        # 16 MB (kB here) of pending entries, not 4: set-based updates (a tag on thousands of
        # contacts) re-add every row's lexemes, and merging a small list often cost a third of them.
        Index(
            "ix_contacts_search", "search", postgresql_using="gin", postgresql_with={"gin_pending_list_limit": 16384}
        ),
        # Partial: new and imported contacts have never opened anything, so loading them costs no entry here.
        Index("ix_contacts_last_opened", "last_opened", postgresql_where=text("last_opened IS NOT NULL")),
        Index("ix_contacts_last_clicked", "last_clicked", postgresql_where=text("last_clicked IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    first_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    last_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(50), default="", server_default="")
    company: Mapped[str] = mapped_column(String(200), default="", server_default="")
    job_title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    location: Mapped[str] = mapped_column(String(200), default="", server_default="")
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    is_active: Mapped[bool] = mapped_column(default=True, server_default="true")
    # Subscriber preferences (seed 003 NewsletterSubscription), set in the preference centre.
    language: Mapped[str] = mapped_column(String(8), default="", server_default="")
    frequency: Mapped[str] = mapped_column(String(20), default="", server_default="")
    topics: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    status: Mapped[str] = mapped_column(String(20), default=ContactStatus.ACTIVE.value, server_default="active")
    date_added: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_updated: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    # email_stats (seed 000), kept by the send pipeline (in contact_sends) and the tracking endpoints.
    emails_sent: Mapped[int] = column_property(
        func.coalesce(
            select(ContactSends.emails_sent)
            .where(ContactSends.contact_id == id)
            .correlate_except(ContactSends)
            .scalar_subquery(),
            0,
        )
    )
    emails_opened: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    emails_clicked: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_opened: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_clicked: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The suppression list's key for this address (see models/suppression.py), so the audience query
    # excludes suppressed contacts with a plain join instead of hashing a million addresses.
    email_hash: Mapped[bytes] = mapped_column(
        LargeBinary, Computed(EMAIL_HASH_SQL.format("email"), persisted=True), deferred=True
    )
    search: Mapped[str] = mapped_column(TSVECTOR, Computed(SEARCH_VECTOR_SQL, persisted=True), deferred=True)
