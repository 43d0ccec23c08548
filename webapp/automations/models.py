"""Automations, their versions (the flow of steps), the contacts enrolled in them and the steps run.

`automation_enrolments` is also the table of due steps: an active enrolment's `due_at` is when its
current step may run, and workers claim due rows with FOR UPDATE SKIP LOCKED (see the engine).
`automation_step_runs` is the exactly-once record: a step's effect is applied in the transaction
that inserts its row, and the row is unique per (enrolment, step).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import Base, created_at_column


class AutomationStatus(StrEnum):
    DRAFT = "draft"  # never published: takes no enrolments
    ACTIVE = "active"
    PAUSED = "paused"  # takes no enrolments; its enrolments wait where they are
    ARCHIVED = "archived"  # finished for good: its active enrolments exited


class Reentry(StrEnum):
    ONCE = "once"  # a contact enters at most once, ever
    ALWAYS = "always"  # again whenever triggered, once the previous run has finished
    EVERY_N_DAYS = "every_n_days"  # again once the previous run has finished and started N days ago


class EnrolmentStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"  # reached the end of the flow, or its goal
    EXITED = "exited"  # left early: became unmailable, its automation was archived
    REMOVED = "removed"  # taken out by a person or a program


class ExitReason(StrEnum):
    GOAL = "goal"
    UNMAILABLE = "unmailable"
    ARCHIVED = "archived"
    REMOVED = "removed"


class StepOutcome(StrEnum):
    DONE = "done"
    SKIPPED = "skipped"  # its skip_if matched
    BRANCHED_YES = "branched_yes"
    BRANCHED_NO = "branched_no"
    GOAL = "goal"  # a goal step whose rules were met


def _in(values: type[StrEnum]) -> str:
    return ", ".join(f"'{v.value}'" for v in values)


class Automation(Base):
    __tablename__ = "automations"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(AutomationStatus)})", name="status"),
        CheckConstraint(f"reentry IN ({_in(Reentry)})", name="reentry"),
        CheckConstraint("reentry_days >= 1", name="reentry_days"),
        Index("ix_automations_created_at_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=AutomationStatus.DRAFT.value, server_default="draft")
    trigger: Mapped[dict[str, Any]] = mapped_column(JSONB)  # {"kind": ..., params}: schemas/trigger.py
    reentry: Mapped[str] = mapped_column(String(20), default=Reentry.ONCE.value, server_default="once")
    reentry_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    # The version new enrolments take: the last one published (NULL until the first publish).
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("automation_versions.id", ondelete="SET NULL", use_alter=True)
    )
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class AutomationVersion(Base):
    """A flow of steps. Published versions never change (the engine caches them by id); the one
    with published_at NULL is the draft being edited, at most one per automation."""

    __tablename__ = "automation_versions"
    __table_args__ = (
        UniqueConstraint("automation_id", "number", name="uq_automation_versions_automation_number"),
        Index(
            "ux_automation_versions_draft",
            "automation_id",
            unique=True,
            postgresql_where=text("published_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    automation_id: Mapped[int] = mapped_column(ForeignKey("automations.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)  # the flow: schemas/flow.py
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class AutomationEnrolment(Base):
    """One run of one contact through an automation; `run` counts its re-entries from 1."""

    __tablename__ = "automation_enrolments"
    __table_args__ = (
        CheckConstraint(f"status IN ({_in(EnrolmentStatus)})", name="status"),
        UniqueConstraint("automation_id", "contact_id", "run", name="uq_automation_enrolments_automation_contact_run"),
        # One active run per contact and automation, whatever races the triggers have.
        Index(
            "ux_automation_enrolments_active",
            "automation_id",
            "contact_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
        # The due steps, in the order the engine claims them (id: the keyset's tie-break).
        Index("ix_automation_enrolments_due", "due_at", "id", postgresql_where=text("status = 'active'")),
        Index("ix_automation_enrolments_automation_status_id", "automation_id", "status", "id"),
        Index("ix_automation_enrolments_contact_id", "contact_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    automation_id: Mapped[int] = mapped_column(ForeignKey("automations.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("automation_versions.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    run: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    status: Mapped[str] = mapped_column(String(20), default=EnrolmentStatus.ACTIVE.value, server_default="active")
    step_id: Mapped[str | None] = mapped_column(String(40))  # the current step; NULL once finished
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    exit_reason: Mapped[str | None] = mapped_column(String(20))


class AutomationStepRun(Base):
    """No foreign key to the enrolment: checking one per inserted run cost more than the insert
    itself (the engine inserts a run per enrolment per step). An enrolment's runs go with it all
    the same: a trigger on automation_enrolments deletes them (migration 0016)."""

    __tablename__ = "automation_step_runs"
    __table_args__ = (CheckConstraint(f"outcome IN ({_in(StepOutcome)})", name="outcome"),)

    enrolment_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    step_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AutomationTriggerCheck(Base):
    """When an automation's scheduled trigger (date field, not opened, segment entered) was last
    evaluated: the next evaluation looks at what happened since (automations.service.triggers).
    problem: why that evaluation enrolled nobody (its segment took too long to check); empty when it ran."""

    __tablename__ = "automation_trigger_checks"

    automation_id: Mapped[int] = mapped_column(ForeignKey("automations.id", ondelete="CASCADE"), primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    problem: Mapped[str] = mapped_column(Text, default="", server_default="")


class AutomationSegmentMember(Base):
    """Who was in a segment_entered automation's segment at its last evaluation: the next one
    enrols those who are in it now and were not then."""

    __tablename__ = "automation_segment_members"

    automation_id: Mapped[int] = mapped_column(ForeignKey("automations.id", ondelete="CASCADE"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)


class AutomationSignal(Base):
    """A signal queued by work that cannot enrol in its own transaction (an import's chunks, on a
    connection of their own): the scheduler tick hands it to triggers.signal and deletes it, in one
    transaction (automations.service.triggers.apply_queued)."""

    __tablename__ = "automation_signals"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSONB)
    contact_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    created_at: Mapped[datetime] = created_at_column()
