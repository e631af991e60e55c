"""Bootstrap: the vectorised paths against per-replicate loops, BCa against R boot.

The vectorised AUC replicates are checked against ``sklearn.metrics.roc_auc_score`` on the
same resamples (rebuilt from the same seeded draws) to 1e-12; the cluster and proportion
paths against the generic (looping) path, which shares the draws. The closed-form jackknife
used by BCa is checked against leave-one-out refits. Intervals are compared with R
``boot::boot.ci`` (``tests/reference/roc/boot_bca.json``, made by
``tests/reference/roc/make_boot_refs.R``, 20,000 replicates) to 0.01: a Monte Carlo tolerance,
since R's and numpy's random streams differ (the bound's Monte Carlo SD at 20,000 replicates
is about 0.001-0.002; R's BCa acceleration comes from regression influence values, ours from
the jackknife, which differ by O(1/n)).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from validation.errors import InputError
from validation.stats import bootstrap_auc, bootstrap_proportion, bootstrap_statistic
from validation.stats.bootstrap import _draws
from validation.stats.jackknife import auc_jackknife_cases, auc_jackknife_clusters
from validation.stats.placements import case_placements

TOL = 1e-12


@pytest.fixture(scope="module")
def asah(reference_dir):
    d = pd.read_csv(reference_dir / "data" / "aSAH.csv")
    return (d["outcome"] == "Poor").astype(int).to_numpy(), d["s100b"].to_numpy()


@pytest.fixture(scope="module")
def clustered():
    rng = np.random.default_rng(2)
    sizes = rng.integers(1, 4, 40)
    cluster = np.repeat(np.arange(40), sizes)
    truth = (rng.random(cluster.size) < 0.4).astype(int)
    noise = np.repeat(rng.normal(size=40), sizes) + rng.normal(size=cluster.size)
    score = np.round(truth + noise, 1)
    return truth, score, cluster


def test_stratified_auc_replicates_equal_roc_auc_score_on_the_same_resamples(asah):
    truth, score = asah
    r = bootstrap_auc(truth, score, n_boot=120, seed=123)
    rng = np.random.default_rng(123)
    neg = np.flatnonzero(truth == 0)
    pos = np.flatnonzero(truth == 1)
    # documented scheme: within each class, a draw picks a rank of the (stably) sorted scores
    neg_by_rank = neg[np.argsort(score[neg], kind="stable")]
    pos_by_rank = pos[np.argsort(score[pos], kind="stable")]
    expected = []
    for neg_draw, pos_draw in _draws(rng, (neg.size, pos.size), 120):
        for a, b in zip(neg_draw, pos_draw, strict=True):
            idx = np.concatenate([neg_by_rank[a], pos_by_rank[b]])
            expected.append(roc_auc_score(truth[idx], score[idx]))
    assert r.replicates == pytest.approx(np.array(expected), abs=TOL)
    assert r.se == pytest.approx(np.std(expected, ddof=1), rel=1e-10)
    assert r.ci == pytest.approx(tuple(np.quantile(expected, [0.025, 0.975])), abs=TOL)


def mann_whitney_auc(t, s):
    """Brute-force AUC: mean over positive-negative pairs, ties one half."""
    t = np.asarray(t).astype(bool)
    x, y = s[t][:, None], s[~t][None, :]
    return float(np.mean((x > y) + 0.5 * (x == y)))


def _auc_or_nan(t, s):
    return mann_whitney_auc(t, s) if 0 < t.sum() < t.size else np.nan


@pytest.mark.parametrize("prevalence", [0.2, 0.8])
def test_either_counted_class_gives_the_loop_replicates(prevalence):
    rng = np.random.default_rng(4)
    truth = (rng.random(90) < prevalence).astype(int)
    score = np.round(truth + rng.normal(size=90), 1)
    r = bootstrap_auc(truth, score, n_boot=60, seed=8)
    neg, pos = np.flatnonzero(truth == 0), np.flatnonzero(truth == 1)
    neg_by_rank = neg[np.argsort(score[neg], kind="stable")]
    pos_by_rank = pos[np.argsort(score[pos], kind="stable")]
    expected = [
        mann_whitney_auc(truth[idx], score[idx])
        for a_blk, b_blk in _draws(np.random.default_rng(8), (neg.size, pos.size), 60)
        for a, b in zip(a_blk, b_blk, strict=True)
        for idx in [np.concatenate([neg_by_rank[a], pos_by_rank[b]])]
    ]
    assert r.replicates == pytest.approx(np.array(expected), abs=TOL)


def test_cluster_auc_replicates_equal_the_generic_loop(clustered):
    truth, score, cluster = clustered
    fast = bootstrap_auc(truth, score, cluster=cluster, n_boot=200, seed=9, interval="bca")
    slow = bootstrap_statistic(_auc_or_nan, truth, score, cluster=cluster, n_boot=200, seed=9,
                               interval="bca")
    assert fast.replicates == pytest.approx(slow.replicates, abs=TOL)
    assert fast.acceleration == pytest.approx(slow.acceleration, abs=1e-10)
    assert fast.ci == pytest.approx(slow.ci, abs=1e-10)
    assert fast.method == "bootstrap-cluster-bca" and fast.n_clusters == 40


def test_jackknife_closed_forms_equal_leave_one_out(clustered):
    truth, score, cluster = clustered
    pos = truth.astype(bool)
    pl, auc = case_placements(pos, score, int(pos.sum()), int((~pos).sum()))
    loo = [mann_whitney_auc(np.delete(truth, i), np.delete(score, i)) for i in range(truth.size)]
    assert auc_jackknife_cases(pos, pl, auc) == pytest.approx(np.array(loo), abs=TOL)
    codes = cluster  # already 0..39
    lco = [mann_whitney_auc(truth[cluster != c], score[cluster != c]) for c in range(40)]
    got = auc_jackknife_clusters(pos, score, pl, codes, 40, auc)
    assert got == pytest.approx(np.array(lco), abs=TOL)


def test_proportion_paths_equal_the_generic_loop(clustered):
    truth, _, cluster = clustered
    for cl in (None, cluster):
        fast = bootstrap_proportion(truth, cluster=cl, n_boot=200, seed=4, interval="bca")
        slow = bootstrap_statistic(np.mean, truth, cluster=cl, n_boot=200, seed=4, interval="bca")
        assert fast.replicates == pytest.approx(slow.replicates, abs=TOL)
        assert fast.ci == pytest.approx(slow.ci, abs=1e-10)
        assert fast.estimate == pytest.approx(truth.mean(), abs=TOL)


def test_bca_matches_r_boot_within_monte_carlo(asah, reference_dir):
    ref = json.loads((reference_dir / "roc" / "boot_bca.json").read_text())
    truth, score = asah
    r = bootstrap_auc(truth, score, n_boot=20000, seed=1, interval="bca")
    assert r.ci == pytest.approx((ref["bca_lower"], ref["bca_upper"]), abs=0.01)
    p = bootstrap_auc(truth, score, n_boot=20000, seed=1)
    assert p.ci == pytest.approx((ref["perc_lower"], ref["perc_upper"]), abs=0.01)
    assert r.estimate == pytest.approx(ref["t0"], abs=TOL)


def test_seed_reproducibility_and_recording(asah):
    truth, score = asah
    a = bootstrap_auc(truth, score, n_boot=100, seed=5)
    b = bootstrap_auc(truth, score, n_boot=100, seed=5)
    assert a == b and np.array_equal(a.replicates, b.replicates)
    c = bootstrap_auc(truth, score, n_boot=100)
    assert isinstance(c.seed, int)
    d = bootstrap_auc(truth, score, n_boot=100, seed=c.seed)
    assert np.array_equal(c.replicates, d.replicates)
    out = a.to_dict()
    assert "replicates" not in out and out["seed"] == 5 and out["n_boot"] == 100
    json.dumps(out, allow_nan=False)


def test_stratified_resampling_keeps_class_sizes(asah):
    truth, score = asah

    def n_pos(t, s):
        return float(t.sum())

    r = bootstrap_statistic(n_pos, truth, score, strata=truth, n_boot=50, seed=1)
    assert np.all(r.replicates == truth.sum())
    assert r.resampling == "stratified"


def test_degenerate_cluster_replicates_are_dropped_with_a_warning():
    truth = np.array([1, 0, 1, 0, 1, 0])
    score = np.array([0.9, 0.1, 0.8, 0.3, 0.4, 0.5])
    cluster = np.array([0, 1, 2, 3, 4, 5])  # few clusters: some resamples lack a class
    from validation.errors import SmallSampleWarning

    with pytest.warns(SmallSampleWarning, match="dropped"):
        r = bootstrap_auc(truth, score, cluster=cluster, n_boot=400, seed=3)
    assert r.n_dropped > 0 and r.n_boot == 400 - r.n_dropped


def test_perfect_separation_gives_a_degenerate_interval_not_an_error():
    for interval in ("percentile", "bca"):
        r = bootstrap_auc([0, 0, 0, 1, 1, 1], [1, 2, 3, 4, 5, 6], n_boot=50, seed=1,
                          interval=interval)
        assert r.estimate == 1.0 and r.ci == (1.0, 1.0) and r.se == 0.0


def test_generic_path_refuses_bad_arguments():
    with pytest.raises(InputError, match="'statistic' must be a callable"):
        bootstrap_statistic(3, [1, 2, 3])
    with pytest.raises(InputError, match="same number of cases"):
        bootstrap_statistic(np.mean, [1, 2, 3], [1, 2])
    with pytest.raises(InputError, match="cannot both be given"):
        bootstrap_statistic(np.mean, [1, 2, 3], strata=[0, 1, 1], cluster=[0, 1, 2])


def test_auc_ci_passes_the_interval_type_on():
    """auc_ci(method="bootstrap", interval="bca") is bootstrap_auc's BCa interval (the
    protocol's analysis.bootstrap_interval reaches AUC endpoints)."""
    from validation.stats.bootstrap import bootstrap_auc
    from validation.stats.roc import auc_ci

    rng = np.random.default_rng(4)
    t = np.r_[np.ones(40), np.zeros(60)].astype(int)
    s = rng.normal(size=100) + t
    got = auc_ci(t, s, method="bootstrap", interval="bca", seed=2, n_boot=500)
    ref = bootstrap_auc(t, s, interval="bca", seed=2, n_boot=500)
    assert got.ci == ref.ci and got.method == "bootstrap-stratified-bca"
    assert got.ci != auc_ci(t, s, method="bootstrap", seed=2, n_boot=500).ci
