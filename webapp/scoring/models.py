"""Lead scoring: the rules that give points, each contact's score with its parts, grade and
lifecycle stage (one narrow row per contact, so segments filter on it through an index and the
nightly recompute rewrites it cheaply), and the history of every change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Identity, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import Base, created_at_column

# What a rule gives points for: an open or a click of a person (machine opens and scanner clicks
# never count), a sign-up form sent, a subscription confirmed, a custom event of a given name.
RULE_EVENTS = ("open", "click", "form", "confirmed", "custom")
STAGES = ("subscriber", "lead", "mql", "sql", "customer", "evangelist")
GRADES = ("A+", "A", "B+", "B", "C", "D", "F")

_STAGE_LIST = ", ".join(f"'{stage}'" for stage in STAGES)
_GRADE_LIST = ", ".join(f"'{grade}'" for grade in GRADES)


class ScoringRule(Base):
    __tablename__ = "scoring_rules"
    __table_args__ = (
        CheckConstraint(f"event IN ({', '.join(repr(e) for e in RULE_EVENTS)})", name="event"),
        CheckConstraint("points <> 0", name="points_not_zero"),
        CheckConstraint("daily_limit IS NULL OR daily_limit > 0", name="daily_limit_positive"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(20))
    event_name: Mapped[str | None] = mapped_column(String(100))  # custom events: only this name
    link_url: Mapped[str | None] = mapped_column(String(2000))  # clicks: only on this link
    points: Mapped[int] = mapped_column(Integer)
    daily_limit: Mapped[int | None] = mapped_column(Integer)  # counted at most this often per contact per day
    enabled: Mapped[bool] = mapped_column(default=True, server_default="true")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()


class ContactScore(Base):
    """A contact's score = engagement (rules over their events) + adjustments (points given by hand
    or by automations) + completeness (0-20) + recency (0-20). A contact without a row scores 0,
    grade F, stage subscriber."""

    __tablename__ = "contact_scores"
    __table_args__ = (
        CheckConstraint(f"grade IN ({_GRADE_LIST})", name="grade"),
        CheckConstraint(f"stage IN ({_STAGE_LIST})", name="stage"),
        CheckConstraint(f"reached_stage IN ({_STAGE_LIST})", name="reached_stage"),
        CheckConstraint(f"stage_override IS NULL OR stage_override IN ({_STAGE_LIST})", name="stage_override"),
        # The leaderboard (keyset, highest first) and score conditions of segments.
        Index("ix_contact_scores_score_contact_id", "score", "contact_id"),
        Index("ix_contact_scores_grade", "grade"),
        Index("ix_contact_scores_stage", "stage"),
    )

    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    score: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(2))
    # The stage the score has reached (it never moves back when a score decays) and the one shown:
    # the override staff chose, until they clear it, else the reached one.
    reached_stage: Mapped[str] = mapped_column(String(12))
    stage_override: Mapped[str | None] = mapped_column(String(12))
    stage: Mapped[str] = mapped_column(String(12))
    engagement: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    adjustments: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    completeness: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    recency: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_activity_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = created_at_column()


class ScoreHistory(Base):
    """One change of a contact's score, grade or stage, and why."""

    __tablename__ = "score_history"
    __table_args__ = (Index("ix_score_history_contact_id_id", "contact_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    at: Mapped[datetime] = created_at_column()
    score: Mapped[int] = mapped_column(Integer)
    change: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(2))
    stage: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(200))
