"""What the campaign pages show, shared by the page handlers and the live stream: the actions a
campaign's status allows, the engagement counters, the review step's warnings and times in the
campaign's zone."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from webapp.abtests.models import AbVariant
from webapp.campaigns.models import Campaign, CampaignKind
from webapp.campaigns.models import CampaignStatus as S
from webapp.campaigns.service.progress import percent, rates
from webapp.campaigns.service.states import DELETABLE, EDITABLE, TRANSITIONS, can_edit
from webapp.core.template_helpers import in_zone
from webapp.templates.service.rendering import LINK_VARIABLES

# A subject line looks shouted when more than this share of at least this many letters are capitals.
SHOUTING_SHARE, SHOUTING_MIN_LETTERS = 0.7, 8


def actions(c: Campaign) -> frozenset[str]:
    """The buttons a campaign gets in its status (seed 000 "Campaign Statuses" actions)."""
    s = S(c.status)
    allowed = TRANSITIONS[s]
    found = {"duplicate"}
    if s is S.SENT and c.kind == CampaignKind.MARKETING.value:
        found.add("resend")
    if can_edit(c.status, started=c.materialised_at is not None):
        found.add("edit")
    if s in EDITABLE:
        found.add("send")
    if s is S.DRAFT:
        found.add("schedule")
    if S.PAUSED in allowed:
        found.add("pause")
    if s is S.PAUSED:
        found.add("resume")
    if S.CANCELLED in allowed:
        found.add("cancel")
    if s in DELETABLE:
        found.add("delete")
    return frozenset(found)


def status_context(c: Campaign, error: str = "") -> dict[str, Any]:
    """Everything campaigns/_status.html needs (the header with badge, reason and actions)."""
    return {"c": c, "actions": actions(c), "error": error, "timing": timing(c)}


def counters(c: Campaign) -> list[tuple[str, int, float | None]]:
    """(label, count, rate %) for the counters card."""
    stats = rates(c)
    return [
        ("Sent", c.sent_count, percent(c.sent_count, c.total_recipients) if c.total_recipients else None),
        ("Opened", c.opened_count, stats["open_rate"]),
        ("Clicked", c.clicked_count, stats["click_rate"]),
        ("Bounced", c.bounced_count, stats["bounce_rate"]),
        ("Unsubscribed", c.unsubscribed_count, stats["unsubscribe_rate"]),
    ]


def spam_signals(subject: str) -> list[str]:
    """What makes a subject line look like spam to filters and people."""
    found = []
    letters = [ch for ch in subject if ch.isalpha()]
    if len(letters) >= SHOUTING_MIN_LETTERS and sum(ch.isupper() for ch in letters) / len(letters) > SHOUTING_SHARE:
        found.append("is mostly CAPITAL LETTERS")
    if subject.count("!") >= 2:
        found.append(f"has {subject.count('!')} exclamation marks")
    return found


# A link whose address holds template syntax: the send engine tracks literal addresses only. Mailroom's
# own links (unsubscribe, preferences, web version) are never tracked, and meant not to be.
PERSONAL_LINK = re.compile(r"""href\s*=\s*(["'])([^"']*(?:{{|{%)[^"']*)\1""", re.IGNORECASE)
OWN_LINK = re.compile(r"\s*{{\s*(?:" + "|".join(LINK_VARIABLES) + r")\s*}}\s*")
EXAMPLE_LENGTH = 60


def review_warnings(c: Campaign) -> list[str]:
    """Things worth a second look before sending; none of them blocks it."""
    warnings = []  # DKIM signing and alignment are the content check's (campaigns/pages/content_check.py)
    if "unsubscribe_url" not in c.html_content:
        if (c.settings or {}).get("unsubscribe_link", True):
            warnings.append(
                "The content has no {{ unsubscribe_url }} link. The footer adds one to every message, "
                "so recipients can still unsubscribe."
            )
        else:
            warnings.append(
                "No visible unsubscribe link: the content has no {{ unsubscribe_url }} and the footer "
                "link is turned off in Settings. Mail apps still offer one-click unsubscribe, but "
                "spam filters and the law (CAN-SPAM, GDPR) expect a visible link."
            )
    if not c.text_content.strip():
        warnings.append("There is no text part; one is generated from the HTML for mail apps that show plain text.")
    if signals := spam_signals(c.subject):
        warnings.append("The subject " + " and ".join(signals) + "; spam filters and readers distrust that.")
    personal = [href for _, href in PERSONAL_LINK.findall(c.html_content) if not OWN_LINK.fullmatch(href)]
    if personal and (c.settings or {}).get("track_clicks", True):
        links = "1 link is" if len(personal) == 1 else f"{len(personal)} links are"
        example = personal[0] if len(personal[0]) <= EXAMPLE_LENGTH else personal[0][: EXAMPLE_LENGTH - 1] + "…"
        warnings.append(
            f"{links} built with template syntax ({example}), so each recipient's address differs: they go out "
            "untracked, and their clicks are not in the report."
        )
    return warnings


def ab_warnings(variants: Sequence[AbVariant], recipients: int | None) -> list[str]:
    """An A/B test whose audience is smaller than its variants: the split gives each recipient one
    variant and the last variants nobody, and nobody is left to send a winner to."""
    if recipients is None or not variants or recipients >= len(variants):
        return []
    left_out = ", ".join(v.label for v in variants[recipients:])
    return [
        f"The audience ({recipients:,}) is smaller than the A/B test's {len(variants)} variants: {left_out} would "
        "get nobody, and nobody is left to send a winner to. Widen the audience or remove variants."
    ]


def timing(c: Campaign) -> tuple[str, str]:
    """(what, when) for the campaign list and page: scheduled for, started, finished or last edited,
    each in the campaign's time zone, named, so that the list never mixes unnamed zones."""
    if c.status == S.SCHEDULED.value:
        return "Scheduled for", in_zone(c.scheduled_at, c.timezone)
    if c.completed_at is not None:
        return ("Sent" if c.status == S.SENT.value else "Ended"), in_zone(c.completed_at, c.timezone)
    if c.started_at is not None:
        return "Started", in_zone(c.started_at, c.timezone)
    return "Edited", in_zone(c.updated_at, c.timezone)
