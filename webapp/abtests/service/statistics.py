"""Honest A/B statistics for 2 to 8 variants, each counted as (trials, successes): recipients, and
those who opened (or clicked, or bought). Pure functions on the standard library (statistics.NormalDist,
math.lgamma); no database.

Rate and its interval: the Wilson score interval (Wilson 1927; Newcombe 1998, method 3). With p the
observed rate of n trials and z the two-sided normal quantile of the confidence level,

    centre = (p + z^2/2n) / (1 + z^2/n),  half-width = z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/4n^2)

It stays inside [0, 1] and is honest at rates near 0 or 1 and at small n, where the textbook
p +- z*sqrt(p(1-p)/n) is not. With no trials it is the whole [0, 1].

Is a variant better: the pooled two-proportion z-test, two-sided. With rates p1, p2 of n1, n2 and
the pooled rate p = (x1 + x2) / (n1 + n2),

    z = (p1 - p2) / sqrt(p(1-p)(1/n1 + 1/n2)),  p-value = 2 (1 - Phi(|z|))

(z = 0, p-value = 1 when there is no variance: no trials, or every trial the same.)
The leader (highest rate) is compared with each of the other k-1 variants; those k-1 p-values are
one family, corrected by Holm-Bonferroni (Holm 1979): sorted ascending, the i-th (from 0) is
multiplied by (m - i), then made non-decreasing, capped at 1. The leader is the winner only when it
is significantly better than every other variant at the chosen confidence (adjusted p < 1 - level).
Each variant's reported p-value is the adjusted p-value of its comparison with the leader; the
leader's is the largest of them (its weakest comparison).

Probability to be best: a Bayesian Beta(1, 1) prior, so each rate's posterior is
Beta(1 + successes, 1 + failures). For two variants exactly (Evan Miller, "Formulas for Bayesian A/B
testing"): with alpha, beta the posteriors' parameters,

    P(p_B > p_A) = sum over i = 0 .. alpha_B - 1 of
                   B(alpha_A + i, beta_A + beta_B) / ((beta_B + i) B(1 + i, beta_B) B(alpha_A, beta_A))

summed over the variant with fewer successes (the other follows as 1 - P). For three or more, and
for two when both have EXACT_TERMS_MAX successes or more (the sum would take a second at a million),
the same quantity by numerical integration: variant i is best with probability

    P(i) = integral over [0, 1] of f_i(x) * product over j != i of F_j(x) dx

with f the posteriors' densities and F their distribution functions, on a grid of GRID_POINTS points
across mean +- GRID_SDS standard deviations of each posterior (so a narrow posterior far from the
others is as finely sampled as a wide one), by the trapezoid rule; each F is normalised to end at 1.
It is deterministic, and within 0.1 % of the exact answer where that is known (the tests compare it
with the two-variant formula).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import NamedTuple

from webapp.abtests.models import MAX_VARIANTS, MIN_VARIANTS, Fallback

EXACT_TERMS_MAX = 20_000  # the two-variant sum has a term per success: beyond this, integrate (faster)
GRID_POINTS = 400  # per posterior
MIN_EXPECTED = 5  # successes and failures each variant must expect before the z-test may judge it
GRID_SDS = 12  # how far either side of a posterior's mean its grid reaches, in standard deviations

STANDARD_NORMAL = NormalDist()


@dataclass(frozen=True)
class VariantCounts:
    label: str
    trials: int
    successes: int


class Interval(NamedTuple):
    low: float
    high: float


@dataclass(frozen=True)
class VariantStatistics:
    label: str
    is_control: bool
    trials: int
    successes: int
    rate: float
    interval: Interval
    p_value: float  # Holm-adjusted, of the difference between this variant and the leader
    probability_best: float


@dataclass(frozen=True)
class Decision:
    winner: str  # the variant to send to the rest: the significant winner, or the fallback's choice
    significant: bool
    reason: str
    variants: list[VariantStatistics]


def two_sided_quantile(confidence: float) -> float:
    """z such that a standard normal falls within +-z with `confidence` percent."""
    return STANDARD_NORMAL.inv_cdf(0.5 + confidence / 200)


def wilson_interval(successes: int, trials: int, *, confidence: float) -> Interval:
    if trials == 0:
        return Interval(0.0, 1.0)
    z = two_sided_quantile(confidence)
    p, z2 = successes / trials, z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half_width = z / denominator * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return Interval(max(0.0, centre - half_width), min(1.0, centre + half_width))


def two_proportion_z_test(successes_1: int, trials_1: int, successes_2: int, trials_2: int) -> tuple[float, float]:
    """(z, two-sided p-value) of the pooled test that both rates are the same."""
    if trials_1 == 0 or trials_2 == 0:
        return 0.0, 1.0
    pooled = (successes_1 + successes_2) / (trials_1 + trials_2)
    variance = pooled * (1 - pooled) * (1 / trials_1 + 1 / trials_2)
    if variance == 0:
        return 0.0, 1.0
    z = (successes_1 / trials_1 - successes_2 / trials_2) / math.sqrt(variance)
    return z, 2 * (1 - STANDARD_NORMAL.cdf(abs(z)))


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the order given."""
    m = len(p_values)
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(sorted(range(m), key=lambda i: p_values[i])):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def _probability_second_beats_first(first: VariantCounts, second: VariantCounts) -> float:
    if second.successes > first.successes:
        return 1 - _probability_second_beats_first(second, first)
    alpha_a, beta_a = 1 + first.successes, 1 + first.trials - first.successes
    alpha_b, beta_b = 1 + second.successes, 1 + second.trials - second.successes
    constant = _log_beta(alpha_a, beta_a)
    return sum(
        math.exp(_log_beta(alpha_a + i, beta_a + beta_b) - math.log(beta_b + i) - _log_beta(1 + i, beta_b) - constant)
        for i in range(alpha_b)
    )


def probability_best(variants: Sequence[VariantCounts]) -> list[float]:
    """Each variant's posterior probability of having the highest rate (Beta(1, 1) prior)."""
    if len(variants) == 2 and min(v.successes for v in variants) < EXACT_TERMS_MAX:
        second = min(1.0, max(0.0, _probability_second_beats_first(variants[0], variants[1])))
        return [1 - second, second]
    return _integrated_probability_best([(1 + v.successes, 1 + v.trials - v.successes) for v in variants])


def _grid(posteriors: Sequence[tuple[int, int]]) -> tuple[list[float], list[float]]:
    """The points the posteriors are integrated on (GRID_POINTS across each one's window of GRID_SDS
    either side of its mean), and the width of the interval that ends at each point: 0 where no
    window covers it. A skewed posterior's density at its window's edge is small but not nothing, and
    a trapezoid across a long gap (down to 0, say) would count it over the whole gap."""
    windows: list[tuple[float, float]] = []
    points: set[float] = set()
    for alpha, beta in posteriors:
        total = alpha + beta
        mean, sd = alpha / total, math.sqrt(alpha * beta / (total * total * (total + 1)))
        low, high = max(0.0, mean - GRID_SDS * sd), min(1.0, mean + GRID_SDS * sd)
        step = (high - low) / (GRID_POINTS - 1)
        windows.append((low, high))
        points.update(low + n * step for n in range(GRID_POINTS - 1))
        points.add(high)
    grid = sorted(points)
    widths = [0.0] + [
        grid[n] - grid[n - 1] if any(low <= grid[n - 1] and grid[n] <= high for low, high in windows) else 0.0
        for n in range(1, len(grid))
    ]
    return grid, widths


def _density(grid: Sequence[float], alpha: int, beta: int) -> list[float]:
    """Beta(alpha, beta)'s density at each point (alpha, beta >= 1, so it is finite everywhere)."""
    constant = _log_beta(alpha, beta)
    values = []
    for x in grid:
        if (x == 0.0 and alpha > 1) or (x == 1.0 and beta > 1):
            values.append(0.0)
            continue
        log_value = (alpha - 1) * math.log(x) if alpha > 1 else 0.0
        log_value += (beta - 1) * math.log1p(-x) if beta > 1 else 0.0
        values.append(math.exp(log_value - constant))
    return values


def _trapezoids(widths: Sequence[float], values: Sequence[float]) -> list[float]:
    """The trapezoid rule's area of each interval (the one ending at each point; 0 before the first)."""
    return [0.0] + [widths[n] * (values[n] + values[n - 1]) / 2 for n in range(1, len(values))]


def _cumulative(widths: Sequence[float], density: Sequence[float]) -> list[float]:
    """The distribution function at each point, normalised to end at exactly 1."""
    running, values = 0.0, []
    for area in _trapezoids(widths, density):
        running += area
        values.append(running)
    return [value / running for value in values]


def _integrated_probability_best(posteriors: Sequence[tuple[int, int]]) -> list[float]:
    grid, widths = _grid(posteriors)
    densities = [_density(grid, alpha, beta) for alpha, beta in posteriors]
    cumulatives = [_cumulative(widths, density) for density in densities]
    areas = []
    for i, density in enumerate(densities):
        others = [cumulative for j, cumulative in enumerate(cumulatives) if j != i]
        integrand = [density[n] * math.prod(cumulative[n] for cumulative in others) for n in range(len(grid))]
        areas.append(sum(_trapezoids(widths, integrand)))
    total = sum(areas)
    return [area / total for area in areas]


def _rate(variant: VariantCounts) -> float:
    return variant.successes / variant.trials if variant.trials else 0.0


def _too_few(variants: Sequence[VariantCounts]) -> str | None:
    """Why the z-test cannot judge these counts yet, or None. Its normal approximation holds once each
    variant would expect at least MIN_EXPECTED successes and as many failures at the pooled rate (the
    textbook condition): with a handful of recipients a 2-of-2 against 0-of-2 looks "significant"."""
    trials = sum(v.trials for v in variants)
    pooled = sum(v.successes for v in variants) / trials
    fewest = min(v.trials for v in variants)
    if min(pooled, 1 - pooled) * fewest >= MIN_EXPECTED:
        return None
    return (
        f"too few recipients to tell yet ({fewest:,} in the smallest variant at a pooled rate of "
        f"{pooled:.1%}: the test needs {MIN_EXPECTED} expected successes and failures in each)."
    )


def decide(
    variants: Sequence[VariantCounts], *, confidence: int, fallback: Fallback | None, control: str | None = None
) -> Decision:
    """The variant to send to the rest, and whether the data support it. `control` is a label (the
    first variant when None); `confidence` a percentage such as 95; `fallback` None when a person
    chooses the winner (the decision then only says what the data show)."""
    if not MIN_VARIANTS <= len(variants) <= MAX_VARIANTS:
        raise ValueError(f"An A/B test has {MIN_VARIANTS} to {MAX_VARIANTS} variants.")
    control_label = control if control is not None else variants[0].label
    probabilities = probability_best(variants)
    # The leader: highest rate; among equal rates the more probable best, then the earlier.
    leader = max(range(len(variants)), key=lambda i: (_rate(variants[i]), probabilities[i], -i))
    others = [i for i in range(len(variants)) if i != leader]
    raw = [
        two_proportion_z_test(variants[leader].successes, variants[leader].trials, v.successes, v.trials)[1]
        for v in (variants[i] for i in others)
    ]
    adjusted = dict(zip(others, holm_adjust(raw), strict=True))
    adjusted[leader] = max(adjusted.values())
    statistics = [
        VariantStatistics(
            label=v.label,
            is_control=v.label == control_label,
            trials=v.trials,
            successes=v.successes,
            rate=_rate(v),
            interval=wilson_interval(v.successes, v.trials, confidence=confidence),
            p_value=adjusted[i],
            probability_best=probabilities[i],
        )
        for i, v in enumerate(variants)
    ]
    alpha = 1 - confidence / 100
    leader_label = variants[leader].label
    empty = [v.label for v in variants if v.trials == 0]
    if empty:
        why = f"{', '.join(empty)} {'has' if len(empty) == 1 else 'have'} no recipients yet."
    elif len({_rate(v) for v in variants}) == 1:  # no leader to name: the first would be named by its place
        why = "the variants are level so far."
    elif (few := _too_few(variants)) is not None:
        why = few
    elif adjusted[leader] < alpha:
        reason = (
            f"{leader_label} is significantly better than every other variant at {confidence} % confidence "
            f"(Holm-adjusted p = {adjusted[leader]:.4f})."
        )
        return Decision(leader_label, True, reason, statistics)
    else:
        closest = max(others, key=lambda i: adjusted[i])
        why = (
            f"the leader, {leader_label}, is not significantly better than {variants[closest].label} "
            f"at {confidence} % confidence (Holm-adjusted p = {adjusted[closest]:.4f})."
        )
    if fallback is None:
        return Decision(leader_label, False, f"No variant is significantly better: {why}", statistics)
    if fallback is Fallback.CONTROL:
        return Decision(
            control_label, False, f"No variant is significantly better: {why} The control is sent.", statistics
        )
    return Decision(
        leader_label, False, f"No variant is significantly better: {why} The leader is sent anyway.", statistics
    )
