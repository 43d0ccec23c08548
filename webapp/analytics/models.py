"""Rollups of the event log: what the reports, the dashboard and the analytics API read, so none of
them scans email_events. Each is kept in the transaction that stores the events it counts (the event
worker's batch, the send pipeline's outcomes, feedback.service.record) and outlives the raw events,
which are dropped by monthly partition after ANALYTICS_DATA_RETENTION_DAYS."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.models import Base


def counter() -> Mapped[int]:
    return mapped_column(Integer, default=0, server_default="0")


class CampaignHourly(Base):
    """One campaign's activity in one hour (UTC). unique_* count each delivery once, in the hour of
    its first open (an open or a click) or first click; human_* leave out machine opens and scanner
    clicks when finding that first one; machine_opens and scanner_clicks are totals."""

    __tablename__ = "analytics_campaign_hourly"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    sent: Mapped[int] = counter()
    delivered: Mapped[int] = counter()
    opens: Mapped[int] = counter()
    unique_opens: Mapped[int] = counter()
    human_unique_opens: Mapped[int] = counter()
    machine_opens: Mapped[int] = counter()
    clicks: Mapped[int] = counter()
    unique_clicks: Mapped[int] = counter()
    human_unique_clicks: Mapped[int] = counter()
    scanner_clicks: Mapped[int] = counter()
    hard_bounces: Mapped[int] = counter()
    soft_bounces: Mapped[int] = counter()
    complaints: Mapped[int] = counter()
    unsubscribes: Mapped[int] = counter()


class LinkClicks(Base):
    """Clicks on one tracked link; unique counts each delivery once per link."""

    __tablename__ = "analytics_link_clicks"

    link_id: Mapped[int] = mapped_column(ForeignKey("links.id", ondelete="CASCADE"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    clicks: Mapped[int] = counter()
    unique_clicks: Mapped[int] = counter()
    human_clicks: Mapped[int] = counter()


class CampaignClients(Base):
    """Opens of one campaign by mail client and device, from the opening agent."""

    __tablename__ = "analytics_campaign_clients"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    client: Mapped[str] = mapped_column(String(40), primary_key=True)
    device: Mapped[str] = mapped_column(String(20), primary_key=True)
    opens: Mapped[int] = counter()
    unique_opens: Mapped[int] = counter()
    human_unique_opens: Mapped[int] = counter()  # the message's first open by a person was in this client


class CampaignDomains(Base):
    """One campaign's recipients at one mail domain: deliveries sent, opened, clicked (each counted
    once), bounce and complaint events."""

    __tablename__ = "analytics_campaign_domains"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    domain: Mapped[str] = mapped_column(Text, primary_key=True)
    sent: Mapped[int] = counter()
    opened: Mapped[int] = counter()
    human_opened: Mapped[int] = counter()
    clicked: Mapped[int] = counter()
    human_clicked: Mapped[int] = counter()
    bounced: Mapped[int] = counter()
    complained: Mapped[int] = counter()


class AudienceDaily(Base):
    """The audience's movement on one day (UTC): contacts added, unsubscribe events, hard bounces."""

    __tablename__ = "analytics_audience_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    subscribed: Mapped[int] = counter()
    unsubscribed: Mapped[int] = counter()
    bounced: Mapped[int] = counter()


class EngagementFirst(Base):
    """A delivery's first of something (opened, human_opened, clicked, human_clicked, or a click on
    link link_id): inserting it with ON CONFLICT DO NOTHING tells a batch which of its events are
    firsts, whatever order batches run in, without reading the event log."""

    __tablename__ = "analytics_engagement_firsts"

    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True)
    what: Mapped[str] = mapped_column(String(16), primary_key=True)
    link_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # 0 unless what = 'link'
