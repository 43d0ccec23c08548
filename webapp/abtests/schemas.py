"""An A/B test as staff and programs write it, and the API's output shapes.

The API declares AbTestCreate as its request body (Litestar checks the JSON types, 400); the service
loads what was sent through it (422 naming each field, e.g. `variants.1.subject`). Whether the
campaign exists and is still a draft is the service's check.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from msgspec import UNSET, Meta, Struct, UnsetType

from webapp.abtests.models import MAX_VARIANTS, MIN_VARIANTS, AbTest, AbTestStatus, AbVariant, Criterion, Fallback
from webapp.campaigns.schemas.campaign import HtmlContent, Subject, TextContent
from webapp.core.schemas import Schema, Values, flag, one_of, row_id, stated, text, whole_number
from webapp.templates.schemas import JINJA_SYNTAX

LABEL_LENGTH = 50
OVERRIDES = ("subject", "from_name", "preheader", "html_content", "text_content")
SETTINGS = ("test_percent", "wait_minutes", "criterion", "confidence_level", "fallback")

# Defaults: seed 003's ab_test_percent (20), seed 000's confidence_level (95).
DEFAULT_TEST_PERCENT = 20
DEFAULT_WAIT_MINUTES = 240
DEFAULT_CONFIDENCE_LEVEL = 95
MAX_TEST_PERCENT = 50  # the winner is meant for most of the audience
MIN_WAIT_MINUTES, MAX_WAIT_MINUTES = 15, 30 * 24 * 60
MIN_CONFIDENCE_LEVEL, MAX_CONFIDENCE_LEVEL = 80, 99

CRITERIA = tuple(c.value for c in Criterion)
FALLBACKS = tuple(f.value for f in Fallback)
VARIANTS_COUNT = f"An A/B test has {MIN_VARIANTS} to {MAX_VARIANTS} variants."
CRITERION_MESSAGE = "Choose how the winner is picked: " + ", ".join(CRITERIA) + "."
FALLBACK_MESSAGE = "Choose what is sent when no variant is significantly better: control or leader."


class AbVariantIn(Schema, kw_only=True):
    """One variant. An override left out, empty or null is the campaign's own value."""

    label: Annotated[str, Meta(title="Label"), text(LABEL_LENGTH, blank="Give the variant a label, e.g. A.")]
    is_control: Annotated[bool | UnsetType, Meta(title="Control"), flag()] = UNSET
    subject: Subject = UNSET
    from_name: Annotated[str | UnsetType | None, Meta(title="From name"), text(200)] = UNSET
    preheader: Annotated[str | UnsetType | None, Meta(title="Preheader"), text(500), JINJA_SYNTAX] = UNSET
    html_content: HtmlContent = UNSET
    text_content: TextContent = UNSET


class AbTestCreate(Schema, kw_only=True):
    """A test of a draft campaign. Without `is_control` on any variant the first is the control."""

    campaign_id: Annotated[int, Meta(title="Campaign"), row_id("Choose the campaign to test by its id.")]
    variants: Annotated[
        list[AbVariantIn],
        Meta(title="Variants", description=f"{MIN_VARIANTS} to {MAX_VARIANTS}, one of them the control."),
        stated(min_items=MIN_VARIANTS, max_items=MAX_VARIANTS),
    ]
    test_percent: Annotated[
        int | UnsetType,
        Meta(title="Test share", description="Percent of the audience split evenly between the variants."),
        whole_number(1, MAX_TEST_PERCENT),
    ] = UNSET
    wait_minutes: Annotated[
        int | UnsetType,
        Meta(title="Wait", description="Minutes between the test's send and choosing the winner."),
        whole_number(MIN_WAIT_MINUTES, MAX_WAIT_MINUTES),
    ] = UNSET
    criterion: Annotated[Criterion | UnsetType, Meta(title="Winner criterion"), one_of(CRITERIA, CRITERION_MESSAGE)] = (
        UNSET
    )
    confidence_level: Annotated[
        int | UnsetType,
        Meta(title="Confidence level", description="Percent, e.g. 95."),
        whole_number(MIN_CONFIDENCE_LEVEL, MAX_CONFIDENCE_LEVEL),
    ] = UNSET
    fallback: Annotated[Fallback | UnsetType, Meta(title="Fallback"), one_of(FALLBACKS, FALLBACK_MESSAGE)] = UNSET

    rules_read: ClassVar[tuple[str, ...]] = ("variants",)

    @classmethod
    def rules(cls, values: Values) -> dict[str, str]:
        variants: list[Values] = values.get("variants", [])
        if not MIN_VARIANTS <= len(variants) <= MAX_VARIANTS:
            return {"variants": VARIANTS_COUNT}
        errors: dict[str, str] = {}
        seen: set[str] = set()
        controls = 0
        for index, variant in enumerate(variants):
            label = variant["label"]
            if label.casefold() in seen:
                errors[f"variants.{index}.label"] = f"Another variant is labelled {label}."
            seen.add(label.casefold())
            if variant.get("is_control"):
                controls += 1
                if controls > 1:
                    errors[f"variants.{index}.is_control"] = "Only one variant can be the control."
        control = control_index(variants)
        for index, variant in enumerate(variants):
            if index != control and not overrides(variant):
                errors[f"variants.{index}"] = (
                    f"Variant {variant['label']} changes nothing: give it a subject, from name, preheader or "
                    "content of its own."
                )
        return errors


class WinnerIn(Schema, kw_only=True):
    """A person's choice of the variant sent to the rest."""

    variant_id: Annotated[int, Meta(title="Winner"), row_id("Choose the winning variant by its id.")]


def control_index(variants: list[Values]) -> int:
    return next((i for i, v in enumerate(variants) if v.get("is_control")), 0)


def overrides(variant: Values) -> dict[str, str]:
    """The variant's overrides that change something (blank and null ones do not)."""
    return {name: variant[name] for name in OVERRIDES if variant.get(name)}


# ---- output --------------------------------------------------------------------------------------


class AbVariantOut(Struct, kw_only=True):
    id: int
    label: str
    is_control: bool
    subject: str | None  # null: the campaign's own
    from_name: str | None
    preheader: str | None
    html_content: str | None
    text_content: str | None


class VariantStatisticsOut(Struct, kw_only=True):
    variant_id: int
    label: str
    is_control: bool
    recipients: int
    successes: int
    rate: float  # 0 to 1
    interval_low: float  # Wilson score interval at the test's confidence level
    interval_high: float
    p_value: float  # Holm-adjusted, of the difference between this variant and the leader
    probability_best: float  # Bayesian, Beta(1, 1) prior


class MetricStatisticsOut(Struct, kw_only=True):
    metric: str  # human_opens, clicks, and for a revenue test revenue (recipients who bought)
    variants: list[VariantStatisticsOut]
    winner: str  # a label: the significant winner, or what the fallback sends
    significant: bool
    reason: str


class AbTestOut(Struct, kw_only=True):
    id: int
    campaign_id: int
    status: AbTestStatus
    test_percent: int
    wait_minutes: int
    criterion: Criterion
    confidence_level: int
    fallback: Fallback
    chosen_variant_id: int | None
    decision_reason: str
    created_at: datetime
    updated_at: datetime
    variants: list[AbVariantOut]


class VariantRevenue(Struct, frozen=True):
    """The orders credited to one variant's messages in one currency."""

    variant_id: int
    currency: str
    orders: int
    amount: Decimal


class VariantRevenueOut(Struct, kw_only=True):
    variant_id: int
    label: str
    currency: str
    orders: int
    amount: str  # exact, e.g. "149.70"


class AbTestDetailOut(AbTestOut, kw_only=True):
    statistics: list[MetricStatisticsOut]
    revenue: list[VariantRevenueOut]  # per variant and currency, only where orders were credited


class AbTestPageOut(Struct):
    items: list[AbTestOut]
    next_cursor: str | None


def variant_values(variant: Values) -> dict[str, Any]:
    """A loaded variant as stored: overrides that change nothing are NULL."""
    return {"label": variant["label"], **{name: variant.get(name) or None for name in OVERRIDES}}


def variant_out(v: AbVariant) -> AbVariantOut:
    return AbVariantOut(
        id=v.id,
        label=v.label,
        is_control=v.is_control,
        subject=v.subject,
        from_name=v.from_name,
        preheader=v.preheader,
        html_content=v.html_content,
        text_content=v.text_content,
    )


def _test_fields(t: AbTest, variants: list[AbVariant]) -> dict[str, Any]:
    return {
        "id": t.id,
        "campaign_id": t.campaign_id,
        "status": AbTestStatus(t.status),
        "test_percent": t.test_percent,
        "wait_minutes": t.wait_minutes,
        "criterion": Criterion(t.criterion),
        "confidence_level": t.confidence_level,
        "fallback": Fallback(t.fallback),
        "chosen_variant_id": t.chosen_variant_id,
        "decision_reason": t.decision_reason,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "variants": [variant_out(v) for v in variants],
    }


def test_out(t: AbTest, variants: list[AbVariant]) -> AbTestOut:
    return AbTestOut(**_test_fields(t, variants))


def test_detail_out(
    t: AbTest, variants: list[AbVariant], statistics: list[MetricStatisticsOut], revenue: list[VariantRevenueOut]
) -> AbTestDetailOut:
    return AbTestDetailOut(**_test_fields(t, variants), statistics=statistics, revenue=revenue)
