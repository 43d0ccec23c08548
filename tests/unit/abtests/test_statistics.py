"""The A/B statistics against published values and at their edges."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from webapp.abtests.models import Fallback
from webapp.abtests.service.statistics import (
    VariantCounts,
    _probability_second_beats_first,
    decide,
    holm_adjust,
    probability_best,
    two_proportion_z_test,
    wilson_interval,
)


# Newcombe RG (1998), "Two-sided confidence intervals for the single proportion: comparison of seven
# methods", Statistics in Medicine 17:857-872, Table II, method 3 (score interval without continuity
# correction), 95 %.
@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_interval_matches_newcombe_1998(successes: int, trials: int, low: float, high: float) -> None:
    interval = wilson_interval(successes, trials, confidence=95)
    assert interval.low == pytest.approx(low, abs=0.00005)
    assert interval.high == pytest.approx(high, abs=0.00005)


def test_wilson_interval_of_all_successes_ends_at_one_and_of_no_trials_is_everything() -> None:
    assert wilson_interval(20, 20, confidence=95).high == pytest.approx(1.0)
    assert wilson_interval(20, 20, confidence=95).low == pytest.approx(1 - 0.1611, abs=0.00005)
    assert wilson_interval(0, 0, confidence=95) == (0.0, 1.0)


def test_wilson_interval_narrows_at_a_lower_confidence() -> None:
    wide, narrow = wilson_interval(81, 263, confidence=99), wilson_interval(81, 263, confidence=90)
    assert wide.low < narrow.low < narrow.high < wide.high


# Straight Draw, "The z-Proportion Test" (https://straightdraw.github.io/probstat/S3b.html): Fulton
# 281 of 473 for, Gwinnett 214 of 443, pooled z = 3.3683 (from proportions it rounds, so to 0.001).
def test_two_proportion_z_test_matches_a_textbook_example() -> None:
    z, p = two_proportion_z_test(281, 473, 214, 443)
    assert z == pytest.approx(3.3683, abs=0.001)
    assert p == pytest.approx(0.00076, abs=0.00001)


# A worked exercise (homeworksource.com/p/1078444): New York 56 % of 300 against Washington 48 % of
# 200, z = 1.755, two-sided p = 0.0792.
def test_two_proportion_z_test_matches_a_worked_exercise() -> None:
    z, p = two_proportion_z_test(168, 300, 96, 200)
    assert z == pytest.approx(1.755, abs=0.0005)
    assert p == pytest.approx(0.0792, abs=0.00005)


# University of Northern Iowa, Clayson, "z test" notes: 140 of 200 against 150 of 200, z = -1.12.
def test_two_proportion_z_test_sign_follows_the_order() -> None:
    z, p = two_proportion_z_test(140, 200, 150, 200)
    assert z == pytest.approx(-1.12, abs=0.005)
    assert p == pytest.approx(0.2626, abs=0.0005)


def test_two_proportion_z_test_of_identical_or_degenerate_groups_finds_nothing() -> None:
    assert two_proportion_z_test(50, 100, 50, 100) == (0.0, 1.0)
    assert two_proportion_z_test(100, 100, 100, 100) == (0.0, 1.0)  # all successes: no variance
    assert two_proportion_z_test(0, 0, 5, 10) == (0.0, 1.0)  # no trials


# Holm S (1979) via the worked example on Wikipedia's "Holm-Bonferroni method": p = 0.01, 0.04, 0.03
# and 0.005 at alpha 0.05 reject the first and the last only.
def test_holm_adjusted_p_values_reject_what_the_published_example_rejects() -> None:
    adjusted = holm_adjust([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert [p < 0.05 for p in adjusted] == [True, False, False, True]


def test_probability_best_of_two_is_exact() -> None:
    # Beta(1, 2) against Beta(2, 1): P(B > A) = integral of 2x (2x - x^2) over [0, 1] = 5/6.
    a, b = probability_best([VariantCounts("A", 1, 0), VariantCounts("B", 1, 1)])
    assert b == pytest.approx(5 / 6, abs=1e-9)
    assert a + b == pytest.approx(1.0)
    assert probability_best([VariantCounts("A", 500, 50), VariantCounts("B", 500, 50)]) == pytest.approx([0.5, 0.5])


HOPELESS = VariantCounts("C", 100_000_000, 0)  # a third variant with no chance against one success


def test_probability_best_of_many_agrees_with_the_exact_answer_and_with_symmetry() -> None:
    exact = probability_best([VariantCounts("A", 1000, 100), VariantCounts("B", 1000, 120)])
    integrated = probability_best([VariantCounts("A", 1000, 100), VariantCounts("B", 1000, 120), HOPELESS])
    assert integrated[:2] == pytest.approx(exact, abs=0.001)
    assert integrated[2] < 1e-9
    eight = probability_best([VariantCounts(str(i), 400, 40) for i in range(8)])
    assert eight == pytest.approx([1 / 8] * 8, abs=1e-12)


def test_probability_best_of_two_large_variants_agrees_with_the_sum() -> None:
    large = [VariantCounts("A", 1_000_000, 100_000), VariantCounts("B", 1_000_000, 100_800)]
    exact = _probability_second_beats_first(*large)  # 100,001 terms
    assert probability_best(large) == pytest.approx([1 - exact, exact], abs=1e-4)
    assert probability_best([*large, HOPELESS])[:2] == pytest.approx([1 - exact, exact], abs=1e-4)


@given(
    trials=st.tuples(st.integers(1, 20_000), st.integers(1, 20_000)),
    shares=st.tuples(st.floats(0, 1), st.floats(0, 1)),
)
@example(trials=(4970, 6068), shares=(1.0, 1.0))  # all successes: each posterior's density peaks at 1
@settings(max_examples=60, deadline=None)
def test_probability_best_by_integration_matches_the_two_variant_formula(
    trials: tuple[int, int], shares: tuple[float, float]
) -> None:
    successes = [max(1, round(n * share)) for n, share in zip(trials, shares, strict=True)]
    pair = [VariantCounts(label, n, x) for label, n, x in zip("AB", trials, successes, strict=True)]
    assert probability_best([*pair, HOPELESS])[:2] == pytest.approx(probability_best(pair), abs=0.001)


def counts(*pairs: tuple[int, int]) -> list[VariantCounts]:
    return [VariantCounts(chr(ord("A") + i), trials, successes) for i, (trials, successes) in enumerate(pairs)]


def test_a_clearly_better_variant_wins() -> None:
    decision = decide(counts((1000, 100), (1000, 160), (1000, 105)), confidence=95, fallback=Fallback.CONTROL)
    assert decision.winner == "B" and decision.significant
    assert "B" in decision.reason and "95 %" in decision.reason
    by_label = {v.label: v for v in decision.variants}
    assert by_label["A"].is_control and by_label["B"].probability_best > 0.99
    assert by_label["B"].rate == pytest.approx(0.16)
    assert by_label["A"].p_value < 0.05 and by_label["C"].p_value < 0.05


def test_no_significant_winner_follows_the_fallback() -> None:
    close = counts((1000, 100), (1000, 112))
    to_control = decide(close, confidence=95, fallback=Fallback.CONTROL)
    assert not to_control.significant and to_control.winner == "A"
    assert "No variant is significantly better" in to_control.reason and "control" in to_control.reason
    to_leader = decide(close, confidence=95, fallback=Fallback.LEADER)
    assert not to_leader.significant and to_leader.winner == "B"
    assert "leader" in to_leader.reason
    for_a_person = decide(close, confidence=95, fallback=None)  # a manual test: nothing is sent on its own
    assert not for_a_person.significant and for_a_person.reason.startswith("No variant is significantly better:")
    assert " is sent" not in for_a_person.reason


def test_level_variants_name_no_leader() -> None:
    for level in (counts((1, 0), (1, 0)), counts((200, 20), (100, 10), (50, 5))):
        decision = decide(level, confidence=95, fallback=None)
        assert decision.reason == "No variant is significantly better: the variants are level so far."


def test_the_confidence_level_decides_a_borderline_case() -> None:
    borderline = counts((2000, 200), (2000, 242))  # two-sided p about 0.035
    assert decide(borderline, confidence=90, fallback=Fallback.CONTROL).significant
    assert decide(borderline, confidence=95, fallback=Fallback.CONTROL).significant
    assert not decide(borderline, confidence=99, fallback=Fallback.CONTROL).significant


def test_the_winner_must_beat_every_other_variant_after_the_correction() -> None:
    # B is clearly better than A but not than C.
    decision = decide(counts((1000, 100), (1000, 160), (1000, 150)), confidence=95, fallback=Fallback.LEADER)
    assert not decision.significant and decision.winner == "B"
    assert "C" in decision.reason


def test_zero_trials_identical_and_all_successes_have_no_winner() -> None:
    nothing = decide(counts((0, 0), (0, 0)), confidence=95, fallback=Fallback.CONTROL)
    assert not nothing.significant and nothing.winner == "A" and "no recipients" in nothing.reason
    assert [v.interval for v in nothing.variants] == [(0.0, 1.0), (0.0, 1.0)]
    same = decide(counts((500, 50), (500, 50), (500, 50)), confidence=95, fallback=Fallback.LEADER)
    assert not same.significant and same.winner == "A"
    full = decide(counts((30, 30), (30, 30)), confidence=95, fallback=Fallback.CONTROL)
    assert not full.significant and full.winner == "A"


def test_eight_variants_and_a_control_other_than_the_first() -> None:
    eight = counts(*[(1000, 100)] * 7, (1000, 200))
    decision = decide(eight, confidence=95, fallback=Fallback.CONTROL, control="C")
    assert decision.significant and decision.winner == "H"
    assert [v.is_control for v in decision.variants] == [label == "C" for label in "ABCDEFGH"]


@pytest.mark.parametrize("variants", [counts((10, 1)), counts(*[(10, 1)] * 9)])
def test_two_to_eight_variants_only(variants: list[VariantCounts]) -> None:
    with pytest.raises(ValueError, match="2 to 8"):
        decide(variants, confidence=95, fallback=Fallback.CONTROL)


def test_a_handful_of_recipients_is_too_few_to_call_a_winner() -> None:
    tiny = decide(counts((2, 0), (2, 2)), confidence=95, fallback=Fallback.CONTROL)  # p = 0.046 by the z-test
    assert not tiny.significant and tiny.winner == "A"  # the fallback: the control
    assert "too few recipients to tell yet (2 in the smallest variant at a pooled rate of 50.0%" in tiny.reason
    rare = decide(counts((200, 0), (200, 4)), confidence=95, fallback=Fallback.CONTROL)  # 1 % pooled: 2 expected
    assert not rare.significant and "too few recipients" in rare.reason
    enough = decide(counts((10, 0), (10, 10)), confidence=95, fallback=Fallback.CONTROL)  # 5 expected of each
    assert enough.significant and enough.winner == "B"
