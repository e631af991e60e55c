"""Meta-test: every public function of ``validation.stats`` refuses bad input cleanly.

A bad value must raise :class:`validation.errors.ValidationError` (normally ``InputError``)
with a message in the house wording (``'{name}' must be ...; got {value!r}.``), never a bare
``ValueError``/``TypeError``/``IndexError``, an ``AssertionError`` or a NaN result.

To cover a new public function, add rows to ``ROWS`` (or a battery via the helpers below):
``(function name, zero-argument callable that makes the bad call, regex the message must
match)``. ``test_every_public_function_has_rows`` fails until every function exported in
``validation.stats.__all__`` has at least one row.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import validation.stats as stats
from validation.errors import ValidationError

T = [0, 1, 0, 1, 1, 0, 1, 0]
S = [0.1, 0.9, 0.3, 0.6, 0.7, 0.2, 0.4, 0.5]
S2 = [0.2, 0.8, 0.1, 0.7, 0.3, 0.4, 0.9, 0.6]
CL = [0, 0, 1, 1, 2, 2, 3, 3]
READS = pd.DataFrame({
    "reader": [1, 1, 2, 2], "modality": ["A", "B", "A", "B"], "case": [1, 1, 1, 1],
    "truth": [1, 1, 1, 1], "rating": [1, 2, 3, 4], "time": [1, 2, 3, 4],
})
OR_VARS = {"var_tr": 0.001, "var": 0.001, "cov1": 0.0005, "cov2": 0.0004, "cov3": 0.0003,
           "pilot_cases": 100}

OR_RM = {"auc1": 0.85, "auc2": 0.9, "var_r": 0.001, "var_tr": 0.0002, "corr1": 0.4,
         "corr2": 0.4, "corr3": 0.3, "var_error": 0.0008, "n0": 60, "n1": 40}
RM_OR = {"delta1": 1.0, "delta2": 1.2, "var_r": 0.01, "var_tr": 0.01, "var_c": 0.3,
         "var_tc": 0.2, "var_rc": 0.2, "var_e": 0.3, "n0": 50, "n1": 50}

Row = tuple[str, Callable[[], Any], str]


def _truth_score_battery(
    name: str, call: Callable[..., Any], score: str = r"score\w*"
) -> list[Row]:
    """Rows for a function called as ``call(truth, score)``; ``score`` matches its name."""
    finite = rf"'{score}' must be finite; got (np\.float64\()?"
    return [
        (name, lambda: call([0, 1, 2, 1], [1, 2, 3, 4]), r"'truth' must hold only 0 and 1"),
        (name, lambda: call(["a", "b"], [1, 2]), r"'truth' must hold 0 .* and 1"),
        (name, lambda: call([], []), r"'truth' must not be empty"),
        (name, lambda: call([[0, 1], [1, 0]], [1, 2]), r"'truth' must be one-dimensional"),
        (name, lambda: call([1, 1, 1], [1, 2, 3]), r"no negative \(0\) cases"),
        (name, lambda: call([0, 0, 0], [1, 2, 3]), r"no positive \(1\) cases"),
        (name, lambda: call(T, [np.nan] + S[1:]), finite + "nan"),
        (name, lambda: call(T, S[:-1] + [np.inf]), finite + "inf"),
        (name, lambda: call(T, S[:-1]), rf"'{score}' must have the same length"),
        (name, lambda: call(T, ["x"] * 8), rf"'{score}' must be numeric"),
    ]


def _alpha_battery(name: str, call: Callable[..., Any]) -> list[Row]:
    """Rows for a function called as ``call(alpha=...)``."""
    return [
        (name, lambda: call(alpha=0.0), r"'alpha' must be in \(0, 1\)"),
        (name, lambda: call(alpha=1.5), r"'alpha' must be in \(0, 1\)"),
        (name, lambda: call(alpha=float("nan")), r"'alpha' must be in \(0, 1\)"),
        (name, lambda: call(alpha="x"), r"'alpha' must be a number"),
    ]


def _cluster_battery(name: str, call: Callable[..., Any]) -> list[Row]:
    return [
        (name, lambda: call(cluster=CL[:-1]), r"'cluster' must have one label per case"),
        (name, lambda: call(cluster=[None] + CL[1:]), r"'cluster' must label every case"),
        (name, lambda: call(cluster=[0] * 8), r"'cluster' must (contain|give) at least two"),
    ]


ROWS: list[Row] = [
    # roc
    *_truth_score_battery("auc_ci", lambda t, s: stats.auc_ci(t, s)),
    *_alpha_battery("auc_ci", lambda **k: stats.auc_ci(T, S, **k)),
    *_cluster_battery("auc_ci", lambda **k: stats.auc_ci(T, S, **k)),
    ("auc_ci", lambda: stats.auc_ci(T, S, method="wald"), r"'method' must be one of"),
    ("auc_ci", lambda: stats.auc_ci([0, 1, 1], [1, 2, 3]), r"at least two positive and two"),
    ("auc_ci", lambda: stats.auc_ci(T, S, method="bootstrap", n_boot=1), r"'n_boot' must be"),
    ("auc_ci", lambda: stats.auc_ci(T, S, method="bootstrap", seed=-1), r"'seed' must be"),
    ("auc_ci", lambda: stats.auc_ci(T, S, method="bootstrap", seed=1.5), r"'seed' must be"),
    *_truth_score_battery("compare_auc", lambda t, s: stats.compare_auc(t, s, s)),
    *_alpha_battery("compare_auc", lambda **k: stats.compare_auc(T, S, S2, **k)),
    *_cluster_battery("compare_auc", lambda **k: stats.compare_auc(T, S, S2, **k)),
    ("compare_auc", lambda: stats.compare_auc(T, S, S2[:-1]), r"'score_b' must have the same"),
    ("compare_auc", lambda: stats.compare_auc(T, S, [np.nan] * 8), r"'score_b' must be finite"),
    ("compare_auc", lambda: stats.compare_auc(T, S, S2, alternative="two.sided"),
     r"'alternative' must be one of"),
    ("compare_auc", lambda: stats.compare_auc(T, S, S), r"variance of the AUC difference is zero"),
    *_truth_score_battery("compare_auc_unpaired",
                          lambda t, s: stats.compare_auc_unpaired(t, s, T, S2)),
    *_alpha_battery("compare_auc_unpaired",
                    lambda **k: stats.compare_auc_unpaired(T, S, T, S2, **k)),
    ("compare_auc_unpaired", lambda: stats.compare_auc_unpaired(T, S, [1, 1, 1], [1, 2, 3]),
     r"sample b: 'truth' has no negative"),
    ("compare_auc_unpaired", lambda: stats.compare_auc_unpaired(T, S, T, S2, distribution="t"),
     r"'distribution' must be one of"),
    *_truth_score_battery("placement_values", stats.placement_values),
    *_truth_score_battery("roc_curve_points", stats.roc_curve_points),
    *_truth_score_battery("roc_sensitivity_band", lambda t, s: stats.roc_sensitivity_band(t, s, n_boot=10)),
    *_alpha_battery("roc_sensitivity_band", lambda **k: stats.roc_sensitivity_band(T, S, n_boot=10, **k)),
    ("roc_sensitivity_band", lambda: stats.roc_sensitivity_band(T, S, fpr_grid=[2.0]),
     r"'fpr_grid' must be numbers in \[0, 1\]"),
    *_truth_score_battery("operating_point", lambda t, s: stats.operating_point(t, s, 0.5)),
    ("operating_point", lambda: stats.operating_point(T, S, float("nan")),
     r"'threshold' must be a finite number"),
    ("operating_point", lambda: stats.operating_point(T, S, "high"),
     r"'threshold' must be a finite number"),
    # proportions
    *_alpha_battery("proportion_ci", lambda **k: stats.proportion_ci(3, 10, **k)),
    ("proportion_ci", lambda: stats.proportion_ci(-1, 10), r"'successes' must be a whole number"),
    ("proportion_ci", lambda: stats.proportion_ci(11, 10), r"'successes' must be at most n"),
    ("proportion_ci", lambda: stats.proportion_ci(0, 0), r"'n' must be a whole number >= 1"),
    ("proportion_ci", lambda: stats.proportion_ci(2.5, 10), r"'successes' must be a whole"),
    ("proportion_ci", lambda: stats.proportion_ci(True, 10), r"'successes' must be a whole"),
    ("proportion_ci", lambda: stats.proportion_ci(3, 10, method="clopper"),
     r"'method' must be one of wilson, exact, jeffreys, agresti-coull"),
    *_alpha_battery("clustered_proportion_ci",
                    lambda **k: stats.clustered_proportion_ci(T, CL, **k)),
    ("clustered_proportion_ci", lambda: stats.clustered_proportion_ci([0, 2], [1, 2]),
     r"'outcome' must hold only 0 and 1"),
    ("clustered_proportion_ci", lambda: stats.clustered_proportion_ci(T, [1] * 8),
     r"'cluster' must give at least two clusters"),
    ("clustered_proportion_ci", lambda: stats.clustered_proportion_ci(T, CL[:3]),
     r"'cluster' must have one label per case"),
    ("clustered_proportion_ci", lambda: stats.clustered_proportion_ci(T, CL, method="wald"),
     r"'method' must be one of"),
    ("confusion_matrix", lambda: stats.confusion_matrix([0, 1, 3], [0, 1, 1]),
     r"'truth' must hold only 0 and 1"),
    ("confusion_matrix", lambda: stats.confusion_matrix([0, 1, 1], [0, 1, 0.5]),
     r"'called_positive' must hold only 0 and 1"),
    ("confusion_matrix", lambda: stats.confusion_matrix([0, 1, 1], [0, 1]),
     r"'called_positive' must have the same length"),
    *_alpha_battery("diagnostic_accuracy", lambda **k: stats.diagnostic_accuracy(T, T, **k)),
    *_cluster_battery("diagnostic_accuracy", lambda **k: stats.diagnostic_accuracy(T, T, **k)),
    ("diagnostic_accuracy", lambda: stats.diagnostic_accuracy([1, 1], [1, 0]),
     r"'truth' has no negative"),
    ("diagnostic_accuracy", lambda: stats.diagnostic_accuracy(T, T, ci="wald"),
     r"'ci' must be one of"),
    ("diagnostic_accuracy", lambda: stats.diagnostic_accuracy(T, [np.nan] * 8),
     r"'called_positive' must hold only 0 and 1"),
    # bootstrap
    *_truth_score_battery("bootstrap_auc", lambda t, s: stats.bootstrap_auc(t, s, n_boot=10)),
    *_alpha_battery("bootstrap_auc", lambda **k: stats.bootstrap_auc(T, S, n_boot=10, **k)),
    *_cluster_battery("bootstrap_auc",
                      lambda **k: stats.bootstrap_auc(T, S, n_boot=10, interval="bca", **k)),
    ("bootstrap_auc", lambda: stats.bootstrap_auc(T, S, n_boot=0), r"'n_boot' must be"),
    ("bootstrap_auc", lambda: stats.bootstrap_auc(T, S, interval="basic"),
     r"'interval' must be one of percentile, bca"),
    *_alpha_battery("bootstrap_proportion",
                    lambda **k: stats.bootstrap_proportion(T, n_boot=10, **k)),
    ("bootstrap_proportion", lambda: stats.bootstrap_proportion([0, 1, 2]),
     r"'outcome' must hold only 0 and 1"),
    ("bootstrap_proportion", lambda: stats.bootstrap_proportion(T, cluster=CL[:2]),
     r"'cluster' must have one label per case"),
    ("bootstrap_proportion", lambda: stats.bootstrap_proportion(T, seed="abc"),
     r"'seed' must be a whole number"),
    *_alpha_battery("bootstrap_statistic",
                    lambda **k: stats.bootstrap_statistic(np.mean, S, n_boot=10, **k)),
    ("bootstrap_statistic", lambda: stats.bootstrap_statistic(None, S),
     r"'statistic' must be a callable"),
    ("bootstrap_statistic", lambda: stats.bootstrap_statistic(np.mean),
     r"'arrays' must hold at least one array"),
    ("bootstrap_statistic", lambda: stats.bootstrap_statistic(np.mean, S, T[:3]),
     r"'arrays\[1\]' must have the same number of cases"),
    ("bootstrap_statistic", lambda: stats.bootstrap_statistic(np.mean, S, strata=T[:3]),
     r"'strata' must have one label per case"),
    ("bootstrap_statistic", lambda: stats.bootstrap_statistic(np.mean, [1.0]),
     r"'arrays' must hold at least two cases"),
    # meta-analysis (validation.stats.meta_analysis, bivariate)
    *_alpha_battery("random_effects", lambda **k: stats.random_effects([0.1, 0.2], [0.01, 0.02], **k)),
    ("random_effects", lambda: stats.random_effects([0.1], [0.01]), r"'estimates' must hold at least two sites"),
    ("random_effects", lambda: stats.random_effects([0.1, 0.2], [0.01, 0.0]), r"'variances' must be > 0"),
    ("random_effects", lambda: stats.random_effects([0.1, np.nan], [0.01, 0.01]), r"'estimates' must be finite"),
    ("random_effects", lambda: stats.random_effects([0.1, 0.2], [0.01]), r"'variances' must have one value"),
    ("random_effects", lambda: stats.random_effects([0.1, 0.2], [0.1, 0.1], method="ml"),
     r"'method' must be one of"),
    ("random_effects", lambda: stats.random_effects([0.1, 0.1], [0.1, 0.1], knha=True),
     r"'estimates' are identical"),
    ("random_effects", lambda: stats.random_effects([0.1, 0.1], [0.1, 0.1], knha="yes"),
     r"'knha' must be True"),
    ("pooled_proportion", lambda: stats.pooled_proportion([3, 0], [10, 0]), r"'totals' must be >= 1"),
    ("pooled_proportion", lambda: stats.pooled_proportion([3, 11], [10, 10]), r"'successes' must not exceed"),
    ("pooled_proportion", lambda: stats.pooled_proportion([3, 1.5], [10, 10]), r"'successes' must hold whole"),
    ("pooled_proportion", lambda: stats.pooled_proportion([3], [10]), r"'estimates' must hold at least two"),
    ("pooled_auc", lambda: stats.pooled_auc([0.8, 1.0], [0.01, 0.01]), r"'aucs' must be strictly between"),
    ("pooled_auc", lambda: stats.pooled_auc([0.8, 0.7], [0.01, 0.0]), r"'variances' must be > 0"),
    ("auc_logit_scale", lambda: stats.auc_logit_scale([0.8, 0.7], [0.01]), r"'variances' must have one value"),
    ("auc_logit_scale", lambda: stats.auc_logit_scale([0.0, 0.7], [0.01, 0.01]), r"'aucs' must be strictly"),
    ("bivariate_accuracy", lambda: stats.bivariate_accuracy([5, 6], [1, 2], [9, 8], [1, 1]),
     r"'tp' must hold at least three sites"),
    ("bivariate_accuracy", lambda: stats.bivariate_accuracy([5, 6, 0], [1, 2, 0], [9, 8, 7], [1, 1, 1]),
     r"'tp \+ fn' must be > 0"),
    ("bivariate_accuracy", lambda: stats.bivariate_accuracy([5, 6, 7], [1, 2], [9, 8, 7], [1, 1, 1]),
     r"'fn' must have one value per site"),
    ("bivariate_accuracy", lambda: stats.bivariate_accuracy([5, 6, -7], [1, 2, 3], [9, 8, 7], [1, 1, 1]),
     r"'tp' must hold whole numbers"),
    *_alpha_battery("bivariate_accuracy",
                    lambda **k: stats.bivariate_accuracy([5, 6, 7], [1, 2, 3], [9, 8, 7], [1, 1, 2], **k)),
    # subgroup consistency (validation.stats.subgroup_consistency)
    *_alpha_battery("subgroup_consistency",
                    lambda **k: stats.subgroup_consistency(T, T, CL, min_level_size=1, n_boot=10, **k)),
    ("subgroup_consistency", lambda: stats.subgroup_consistency(T, T, CL, n_boot=10),
     r"'min_level_size' must be reached by at least two levels"),
    ("subgroup_consistency", lambda: stats.subgroup_consistency(T, T[:4], CL),
     r"'called' must have the same length"),
    ("subgroup_consistency", lambda: stats.subgroup_consistency(T, T, CL[:4]),
     r"'factor' must be one-dimensional"),
    ("subgroup_consistency", lambda: stats.subgroup_consistency(T, T, [0, 1, None, 1, 0, 1, 0, 1]),
     r"'factor' must name a level for every case"),
    ("subgroup_consistency", lambda: stats.subgroup_consistency(T, T, CL, working_correlation="ar1"),
     r"'working_correlation' must be one of"),
    # differences (validation.stats.differences)
    *_alpha_battery("paired_difference", lambda **k: stats.paired_difference(5, 3, 2, 10, **k)),
    ("paired_difference", lambda: stats.paired_difference(-1, 3, 2, 10), r"must"),
    ("paired_difference", lambda: stats.paired_difference(5, 3, 2, 10, ci="bogus"), r"must"),
    *_alpha_battery("unpaired_difference",
                    lambda **k: stats.unpaired_difference(5, 10, 3, 10, **k)),
    ("unpaired_difference", lambda: stats.unpaired_difference(11, 10, 3, 10), r"must"),
    ("unpaired_difference", lambda: stats.unpaired_difference(5, 10, 3, 10, ci="bogus"),
     r"must"),
    # MRMC (validation.stats.mrmc)
    *_truth_score_battery("binormal_auc", stats.binormal_auc, score="rating"),
    *_alpha_battery("binormal_auc", lambda **k: stats.binormal_auc(T, S, **k)),
    *_alpha_battery("mrmc_analysis", lambda **k: stats.mrmc_analysis(READS, **k)),
    ("mrmc_analysis", lambda: stats.mrmc_analysis(READS, endpoint="x"),
     r"'endpoint' must be one of"),
    ("mrmc_analysis", lambda: stats.mrmc_analysis(READS.drop(columns="rating")),
     r"'data' must have the columns"),
    *_alpha_battery("mrmc_power", lambda **k: stats.mrmc_power(
        effect=0.05, n_readers=5, n_cases=100, **OR_VARS, **k)),
    ("mrmc_power", lambda: stats.mrmc_power(effect=0.05, n_readers=1, n_cases=100, **OR_VARS),
     r"'n_readers' must be a whole number >= 2"),
    *_alpha_battery("mrmc_sample_size", lambda **k: stats.mrmc_sample_size(
        effect=0.05, n_readers=5, **OR_VARS, **k)),
    ("mrmc_sample_size", lambda: stats.mrmc_sample_size(
        effect=0.05, n_readers=5, **OR_VARS, power=1.5), r"'power' must be in \(0, 1\)"),
    *_alpha_battery("reading_time_ratio", lambda **k: stats.reading_time_ratio(READS, **k)),
    ("reading_time_ratio", lambda: stats.reading_time_ratio(READS, time="nope"),
     r"'data' must have the columns"),
    ("study_conduct", lambda: stats.study_conduct(READS, washout_days_min=-1),
     r"'washout_days_min' must be >= 0"),
    ("study_conduct", lambda: stats.study_conduct(READS, reader="nope"),
     r"'data' must have the columns"),
    # localization and U-statistic MRMC (issue 21)
    ("localization_mrmc", lambda: stats.localization_mrmc(READS), r"'marks' must be"),
    ("standalone_localization", lambda: stats.standalone_localization(
        [1.0, 2.0], [[3.0]], [[1.0]], [False, True], fom="JAFROC"), r"'fom' must be one of"),
    ("standalone_localization", lambda: stats.standalone_localization(
        [1.0, np.nan], [[3.0]], [[1.0]], [False, True]), r"must not be NaN"),
    ("ustat_analysis", lambda: stats.ustat_analysis(READS, alpha=2), r"'alpha' must be"),
    ("ustat_analysis", lambda: stats.ustat_analysis(READS.drop(columns="rating")),
     r"'data' must have the columns"),
    ("reading_design", lambda: stats.reading_design(READS, case="nope"),
     r"'data' must have the columns"),
    ("split_plot_mrmc", lambda: stats.split_plot_mrmc(READS, alpha=2), r"'alpha' must be"),
    ("split_plot_mrmc", lambda: stats.split_plot_mrmc(READS.drop(columns="rating")),
     r"'data' must have the columns"),
    ("split_plot_mrmc", lambda: stats.split_plot_mrmc(READS, endpoint="ppv"),
     r"'endpoint' must be one of"),
    ("or_split_plot", lambda: stats.or_split_plot(np.ones((2, 2)), np.eye(3), reader_groups=[1, 2]),
     r"'cov' must have shape"),
    ("or_split_plot", lambda: stats.or_split_plot(np.ones((2, 2)), np.ones((4, 4)),
                                                  reader_groups=[1, 2]),
     r"'cov' must be zero between readers of different groups"),
    # surveillance (issue 15)
    ("bernoulli_cusum", lambda: stats.bernoulli_cusum(T, p0=0.2, p1=0.1, limit=2),
     r"'p1' must be above 'p0'"),
    ("bernoulli_cusum", lambda: stats.bernoulli_cusum([0, 2], p0=0.1, p1=0.2, limit=2),
     r"'outcomes' must hold only 0"),
    ("cusum_arl", lambda: stats.cusum_arl(0, p0=0.1, p1=0.2, p=0.1), r"'limit' must be"),
    ("cusum_limit", lambda: stats.cusum_limit(p0=0.1, p1=0.2, arl0=1), r"'arl0' must be"),
    ("binomial_cusum", lambda: stats.binomial_cusum([3], [2], p0=0.1, p1=0.2, limit=1),
     r"'events' must not exceed"),
    ("binomial_cusum_arl", lambda: stats.binomial_cusum_arl(1, p0=0.1, p1=0.2, p=0.1, n=0),
     r"'n' must be"),
    ("binomial_cusum_limit", lambda: stats.binomial_cusum_limit(p0=0.1, p1=1.0, n=5, arl0=50),
     r"'p1' must be a probability"),
    ("normal_cusum", lambda: stats.normal_cusum([0.8], mean=0.8, sd=-1, shift=-0.1, arl0=100),
     r"'sd' must be"),
    ("normal_cusum_arl", lambda: stats.normal_cusum_arl(2.0, k=-1), r"'k' must be"),
    ("normal_cusum_design", lambda: stats.normal_cusum_design(shift=0, arl0=100),
     r"'shift' must be"),
    ("ewma_proportion", lambda: stats.ewma_proportion([1], [2], target=0.5, lam=2, width=3),
     r"'lam' must be in"),
    ("population_stability_index", lambda: stats.population_stability_index(S, [np.nan]),
     r"'current' must be finite"),
    ("ks_drift", lambda: stats.ks_drift(S, []), r"'current' must not be empty"),
    ("chi2_mix", lambda: stats.chi2_mix({}, {"a": 1}), r"'baseline' must be a non-empty"),
    ("adjust_drift_pvalues", lambda: stats.adjust_drift_pvalues([2.0]), r"'p_values' must be in"),
    ("estimated_performance", lambda: stats.estimated_performance([1.5], threshold=0.5),
     r"'probability' must be in"),
    ("fit_calibrator", lambda: stats.fit_calibrator(S, T, method="spline"), r"'method' must be"),
    # agreement and segmentation (issue 19)
    *_alpha_battery("bland_altman", lambda **k: stats.bland_altman(S, S2, **k)),
    ("bland_altman", lambda: stats.bland_altman([1.0, np.nan, 2.0], [1, 2, 3]), r"'a' must hold finite"),
    ("bland_altman", lambda: stats.bland_altman(S, S2[:-1]), r"'b' must have the same length"),
    ("bland_altman", lambda: stats.bland_altman([1, 2], [1, 2]), r"'a' and 'b' must hold at least 3"),
    ("bland_altman_repeated", lambda: stats.bland_altman_repeated(S, S2, CL[:-1]), r"'subject' must be one"),
    ("bland_altman_repeated", lambda: stats.bland_altman_repeated(S, S2, range(8)), r"'subject' must give"),
    ("proportional_bias", lambda: stats.proportional_bias([1, 2, 3], [3, 2, 1]), r"'a' and 'b' must span"),
    *_alpha_battery("lin_ccc", lambda **k: stats.lin_ccc(S, S2, **k)),
    ("lin_ccc", lambda: stats.lin_ccc([1, 1, 1], [1, 2, 3]), r"'a' and 'b' must both vary"),
    ("lin_ccc", lambda: stats.lin_ccc(S, S), r"'a' and 'b' must not agree perfectly"),
    ("icc", lambda: stats.icc(np.ones((5, 2))), r"'ratings' must vary"),
    ("icc", lambda: stats.icc([[1, 2]]), r"'ratings' must be a subjects x raters table"),
    ("icc", lambda: stats.icc(np.arange(10.0).reshape(5, 2), form="ICC4"), r"'form' must be one of"),
    ("cohen_kappa", lambda: stats.cohen_kappa([1, 2, 1], [1, 2], weights=None), r"'r1' and 'r2' must be 1-D"),
    ("cohen_kappa", lambda: stats.cohen_kappa([1, 2], [1, 2], weights="cubic"), r"'weights' must be None"),
    ("fleiss_kappa", lambda: stats.fleiss_kappa([1, 2, 3]), r"'ratings' must be a subjects x raters"),
    ("fleiss_kappa", lambda: stats.fleiss_kappa(np.ones((4, 3))), r"'ratings' must use at least 2"),
    ("segmentation_metrics", lambda: stats.segmentation_metrics(np.zeros((3, 3)), np.zeros((3, 4)),
                                                                spacing=(1, 1), tolerance_mm=1),
     r"'prediction' must have the reference's shape"),
    ("segmentation_metrics", lambda: stats.segmentation_metrics(np.zeros((3, 3)), np.zeros((3, 3)),
                                                                spacing=(1, 0), tolerance_mm=1),
     r"'spacing' must be 2 positive"),
    ("segmentation_metrics", lambda: stats.segmentation_metrics(np.full((3, 3), 0.5), np.zeros((3, 3)),
                                                                spacing=(1, 1), tolerance_mm=1),
     r"'reference' must be a binary mask"),
    # calibration and prognostic (issue 18)
    *[(name, lambda fn=fn: fn(T, [1.5] + S[1:]), r"'probability' must be a probability in \[0, 1\]")
      for name, fn in [("calibration_summary", stats.calibration_summary), ("brier_score", stats.brier_score),
                       ("expected_calibration_error", stats.expected_calibration_error),
                       ("calibration_bins", stats.calibration_bins),
                       ("hosmer_lemeshow_test", stats.hosmer_lemeshow_test),
                       ("calibration_curve", stats.calibration_curve)]],
    ("calibration_summary", lambda: stats.calibration_summary([0, 0, 0], [0.1, 0.2, 0.3]),
     r"'truth' has no event"),
    ("calibration_summary", lambda: stats.calibration_summary(T, S, alpha=2), r"'alpha' must be in \(0, 1\)"),
    ("expected_calibration_error", lambda: stats.expected_calibration_error(T, S, bins=1), r"'bins' must be"),
    ("calibration_bins", lambda: stats.calibration_bins(T, S, strategy="kmeans"), r"'strategy' must be one of"),
    ("hosmer_lemeshow_test", lambda: stats.hosmer_lemeshow_test(T, S, setting="x"), r"'setting' must be one of"),
    ("calibration_curve", lambda: stats.calibration_curve(T, S, frac=0), r"'frac' must be in"),
    ("fit_recalibration", lambda: stats.fit_recalibration(T, [1.5] + S[1:]),
     r"'probability' must be a probability in \[0, 1\]"),
    ("fit_recalibration", lambda: stats.fit_recalibration([0, 1, 0], [0.3, 0.3, 0.3]), r"'probability' must vary"),
    *[(name, call, pattern) for name, fn in [("concordance_index", stats.concordance_index),
                                            ("cox_hazard_ratio", stats.cox_hazard_ratio)]
      for call, pattern in [
          (lambda fn=fn: fn([1.0, -2.0, 3.0], [1, 0, 1], [0.1, 0.2, 0.3]), r"'time' must be >= 0"),
          (lambda fn=fn: fn([1.0, 2.0, 3.0], [0, 0, 0], [0.1, 0.2, 0.3]), r"'event' has no events"),
          (lambda fn=fn: fn([1.0, 2.0, 3.0], [1, 0, 2], [0.1, 0.2, 0.3]), r"'event' must hold only 1"),
          (lambda fn=fn: fn([1.0, 2.0, 3.0], [1, 0, 1], [0.1, np.nan, 0.3]), r"'score' must be finite"),
      ]],
    ("kaplan_meier", lambda: stats.kaplan_meier([1.0, np.inf], [1, 0]), r"'time' must be finite"),
    ("survival_by_group", lambda: stats.survival_by_group([1.0, 2.0], [1, 1], ["a", "a"]),
     r"'group' must hold at least two risk groups"),
    ("survival_by_group", lambda: stats.survival_by_group([1.0, 2.0], [1, 1], ["a", "b"], order=["a"]),
     r"'order' must list each group once"),
    ("cox_group_hazard_ratios", lambda: stats.cox_group_hazard_ratios([1.0, 2.0], [1, 1], ["a", "a"]),
     r"'group' must hold at least two risk groups"),
    ("time_dependent_auc", lambda: stats.time_dependent_auc([1.0, 2.0], [1, 0], [0.1, 0.2], horizons=[-1]),
     r"'horizons' must be a non-empty list of times > 0"),
    # reusable holdout
    ("thresholdout", lambda: stats.thresholdout([0.5], [1.2], threshold=0.04, sigma=0.01, budget=1, seed=0),
     r"'holdout_values' must be a non-empty 1-D sequence of query values in \[0, 1\]"),
    ("thresholdout", lambda: stats.thresholdout([0.5], [0.5], threshold=0.04, sigma=0.01, budget=0, seed=0),
     r"'budget' must be a whole number >= 1"),
    # OR <-> Roe-Metz parameters
    ("or_to_rm", lambda: stats.or_to_rm(**{**OR_RM, "auc1": 0.4}),
     r"'auc1' must be an expected AUC in \(0.5, 1\); got 0.4"),
    ("or_to_rm", lambda: stats.or_to_rm(**{**OR_RM, "corr2": np.nan}),
     r"'corr2' must be an error correlation in \[0, 1\]; got nan"),
    ("or_to_rm", lambda: stats.or_to_rm(**{**OR_RM, "var_tr": -0.001}),
     r"'var_tr' must be a variance component >= 0; got -0.001. Truncate"),
    ("or_to_rm", lambda: stats.or_to_rm(**{**OR_RM, "n1": 2.5}),
     r"'n1' must be a whole number >= 1; got 2.5"),
    ("or_to_rm", lambda: stats.or_to_rm(**OR_RM, b_method="specified", b=-1.0),
     r"'b' must be the binormal slope"),
    ("rm_to_or", lambda: stats.rm_to_or(**{**RM_OR, "var_c": -0.1}),
     r"'var_c' must be a variance component"),
    ("rm_to_or", lambda: stats.rm_to_or(**{**RM_OR, "delta1": "x"}),
     r"'delta1' must be a number; got 'x'"),
    ("rm_to_or", lambda: stats.rm_to_or(**{**RM_OR, "b": 0.0}),
     r"'b' must be the binormal slope"),
]


def _public_functions() -> list[str]:
    return sorted(
        name for name in stats.__all__ if inspect.isfunction(getattr(stats, name, None))
    )


@pytest.mark.parametrize(
    ("name", "call", "pattern"),
    ROWS,
    ids=[f"{name}-{i}" for i, (name, _, _) in enumerate(ROWS)],
)
def test_bad_input_raises_a_clear_validation_error(name, call, pattern):
    with pytest.raises(ValidationError) as info:
        call()
    message = str(info.value)
    assert re.search(pattern, message), f"{name}: message {message!r} does not match {pattern!r}"
    assert "\n" not in message, f"{name}: an input error is one line; got {message!r}"


def test_every_public_function_has_rows():
    covered = {name for name, _, _ in ROWS}
    missing = [name for name in _public_functions() if name not in covered]
    assert not missing, (
        "add bad-input rows to tests/stats/test_public_api_bad_input.py ROWS for: "
        + ", ".join(missing)
    )


def test_rows_name_existing_public_functions():
    public = set(_public_functions())
    unknown = sorted({name for name, _, _ in ROWS} - public)
    assert not unknown, f"rows name functions that are not public: {unknown}"
