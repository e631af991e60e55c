"""Sample sizes against worked examples printed in the literature.

The R-based checks (independent code) are in ``test_sample_size.py``; this file holds the values
as they appear in print, so that a reviewer can look the number up:

* Chu H, Cole SR (2007). Sample size calculation using exact methods in diagnostic test studies.
  J Clin Epidemiol 60(11):1201-1202. Exact binomial design of
  Flahault et al. (2005): expected sensitivity ``s``, acceptable lower limit ``s - delta``,
  one-sided alpha 0.05, power 0.95. Their conservative size (the smallest n from which the
  saw-toothed exact power never drops below the target) for (s, delta) = (0.99, 0.14), (0.99, 0.13),
  (0.99, 0.12), (0.98, 0.13), (0.98, 0.11) is 40, 43, 47, 50, 58 (their n2, p. 1202). For
  s = 0.95, delta = 0.10 they report power 0.957 at n = 93 (where the power first reaches 0.95)
  and 0.968 at n = 102, the conservative size (p. 1201). The same numbers are quoted as the
  examples of ``MKpower::power.diagnostic.test``.
* Chow SC, Shao J, Wang H (2008). Sample Size Calculations in Clinical Research, 2nd ed.,
  Chapman & Hall/CRC, p. 90 (two-sample non-inferiority for proportions): cure rates 0.85 and
  0.65, margin 0.10, one-sided alpha 0.05, power 0.80, unrestricted variance -> 25 per group
  (n = 24.4 before rounding). Quoted as example 1 of ``epiR::epi.ssninfb``.
* Connor RJ (1987). Sample size for testing differences in proportions for the paired-sample
  design. Biometrics 43(1):207-211, formula on p. 209, as worked on the powerandsamplesize.com
  calculator pages ("Compare Paired Proportions: McNemar's Z-test", 1-sided and 2-sided):
  discordant proportions 0.45 and 0.05; one-sided alpha 0.05 with power 0.90, and two-sided
  alpha 0.05 (one-sided 0.025) with power 0.80, each give 23 pairs.

Tolerances: the sizes exactly; the powers to the three decimals printed.
"""

from __future__ import annotations

import pytest

from validation.stats import sample_size as ss

CHU_COLE_2007_N2 = [
    # expected sensitivity, delta (goal = expected - delta), conservative n printed
    (0.99, 0.14, 40),
    (0.99, 0.13, 43),
    (0.99, 0.12, 47),
    (0.98, 0.13, 50),
    (0.98, 0.11, 58),
]


@pytest.mark.parametrize(("sens", "delta", "n_printed"), CHU_COLE_2007_N2)
def test_exact_goal_design_matches_chu_cole_2007(sens, delta, n_printed):
    r = ss.proportion_vs_goal_sample_size(sens, round(sens - delta, 10), alpha=0.05, power=0.95,
                              method="exact")
    assert r.n == n_printed
    assert r.power >= 0.95


def test_chu_cole_2007_saw_tooth_example():
    r = ss.proportion_vs_goal_sample_size(0.95, 0.85, alpha=0.05, power=0.95, method="exact")
    # 93 first reaches the power; 102 is the size from which it never drops below it
    assert r.assumptions["n_first_reaching_power"] == 93
    assert r.n == 102
    _, power = ss.exact_binomial_power([93, 102], 0.85, 0.95, 0.05)
    assert round(float(power[0]), 3) == 0.957
    assert round(float(power[1]), 3) == 0.968
    assert round(r.power, 3) == 0.968


def test_unpaired_noninferiority_matches_chow_shao_wang_2008():
    r = ss.unpaired_difference_sample_size(0.85, 0.65, margin=0.10, alpha=0.05, power=0.80,
                               variance="unrestricted")
    assert r.groups == {"group1": 25, "group2": 25}
    assert r.n_total == 50
    assert round(r.n_unrounded, 1) == 24.4


@pytest.mark.parametrize(("alpha", "power"), [(0.05, 0.90), (0.025, 0.80)])
def test_paired_superiority_matches_connor_1987_worked_example(alpha, power):
    r = ss.paired_difference_sample_size(0.45, 0.05, alpha=alpha, power=power)
    assert r.n == 23
    assert r.references[0].startswith("Connor RJ (1987)")
