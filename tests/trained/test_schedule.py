import pytest

from trained.schedule import FLOOR, rate_at, run_progress


def test_without_decay_the_rate_is_constant():
    assert [rate_at(1e-3, 0.0, p) for p in (0.0, 0.5, 1.0)] == [1e-3, 1e-3, 1e-3]


def test_the_rate_falls_linearly_over_the_last_fraction_to_the_floor():
    base = 2e-4
    assert rate_at(base, 0.25, 0.0) == base and rate_at(base, 0.25, 0.75) == base
    assert rate_at(base, 0.25, 1.0) == pytest.approx(FLOOR * base)
    halfway = rate_at(base, 0.25, 0.875)
    assert halfway == pytest.approx(base * (FLOOR + (1 - FLOOR) / 2))
    rates = [rate_at(base, 1.0, p / 10) for p in range(11)]
    assert rates == sorted(rates, reverse=True) and rates[0] == base
    assert rate_at(base, 0.5, 1.7) == pytest.approx(FLOOR * base)  # a --minutes run past its deadline


def test_progress_counts_steps_or_minutes_of_the_budget():
    assert run_progress(30, 120, 999.0, None) == 0.25
    assert run_progress(30, None, 90.0, 3.0) == 0.5
    assert run_progress(30, None, 90.0, None) == 0.0
