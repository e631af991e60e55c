"""Simulation-based power of an MRMC protocol (``validation protocol sample-size --simulate N``).

For each sample-size assumption of a reader-study (MRMC) superiority hypothesis, ``N`` two-modality
studies with the protocol's planned readers and cases are simulated from stated Roe-Metz variance
components (:mod:`validation.stats.mrmc.simulation`), the separations set so that the model's
expected AUCs are the assumption's ``comparator_expected`` and ``expected``; each study is
analysed by the Obuchowski-Rockette RRRC test (Hillis df) and the empirical power is the share
rejected, with its Clopper-Pearson interval. One-sided ``alpha`` is run as the two-sided test at
``2 alpha``; a rejection in the wrong direction also counts (negligible for a positive effect).
Non-inferiority, equivalence and performance-goal hypotheses get a note (the simulated test is
of no difference).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from validation.errors import InputError, ProtocolError

COMPONENT_KEYS = ("var_r", "var_c", "var_tr", "var_tc", "var_rc", "var_e", "b")


def parse_components(text: str | None) -> Any:
    """``'var_r=0.011,var_c=0.1,...'`` into Roe-Metz components (the defaults where not given)."""
    from validation.stats.mrmc.simulation import RoeMetzComponents

    values: dict[str, Any] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, sep, val = part.partition("=")
        key = key.strip()
        try:
            if not sep or key not in COMPONENT_KEYS:
                raise ValueError
            values[key] = float(val)
        except ValueError:
            raise InputError(f"'--components' must be KEY=VALUE pairs with keys from "
                             f"{', '.join(COMPONENT_KEYS)}; got {part!r}.") from None
    return RoeMetzComponents(**values)


def _mu(auc: float, comp: Any) -> float:
    """Separation whose expected empirical AUC under ``comp`` is ``auc``."""
    return float(stats.norm.ppf(auc) * np.sqrt(comp.difference_variance()))


def simulated_mrmc_power(protocol: Any, *, n_studies: int, seed: int, components: Any
                         ) -> list[dict[str, Any]]:
    """One entry per MRMC assumption: the empirical power (or a note why none)."""
    from validation.protocol.vocabulary import MRMC_KINDS
    from validation.stats.mrmc.simulation import simulate_or_rejections

    plan = protocol.sample_size
    if plan is None or not plan.assumptions:
        raise ProtocolError("the protocol has no 'sample_size' section with 'assumptions'; "
                            "add the MRMC assumption (hypothesis, expected, comparator_expected, "
                            "n_readers) to simulate its power.")
    alpha = float(protocol.one_sided_level)
    comp = {k: float(getattr(components, k)) for k in COMPONENT_KEYS}
    out: list[dict[str, Any]] = []
    for a in plan.assumptions:
        h = protocol.hypothesis(a.hypothesis)
        if protocol.endpoint(h.endpoint).kind not in MRMC_KINDS:
            continue
        item: dict[str, Any] = {"hypothesis": h.id, "type": h.type, "endpoint": h.endpoint}
        pos, neg = plan.planned_positive, plan.planned_negative
        if h.type != "superiority" or h.margin:
            item["note"] = (f"no simulation for an MRMC {h.type.replace('_', ' ')} hypothesis"
                            f"{' with a margin' if h.margin else ''} (the simulated test is of "
                            "no difference).")
        elif a.n_readers is None or a.comparator_expected is None or not pos or not neg:
            item["note"] = ("simulation needs n_readers and comparator_expected in the assumption "
                            "and planned_positive and planned_negative in sample_size.")
        else:
            aucs = (float(a.comparator_expected), float(a.expected))
            res = simulate_or_rejections(
                [_mu(x, components) for x in aucs], n_readers=int(a.n_readers),
                n_nondiseased=int(neg), n_diseased=int(pos), n_studies=n_studies,
                components=components, alpha=2.0 * alpha, seed=seed)
            lo, hi = stats.beta.ppf([alpha, 1 - alpha], [res.rejections, res.rejections + 1],
                                    [n_studies - res.rejections + 1, n_studies - res.rejections])
            ci = (float(lo) if res.rejections > 0 else 0.0,
                  float(hi) if res.rejections < n_studies else 1.0)
            item.update(
                power=res.estimate, rejections=res.rejections, n_studies=n_studies,
                ci=ci, confidence=1 - 2 * alpha, seed=seed, n_readers=int(a.n_readers),
                n_diseased=int(pos), n_nondiseased=int(neg), expected_auc=list(res.expected_auc),
                mean_auc=list(res.mean_auc), components=comp,
                method=f"{res.method}; two-sided test at {2 * alpha:g}",
                text=(f"{h.id}: simulated power {res.estimate:.3f} ({res.rejections}/{n_studies} "
                      f"studies; {100 * (1 - 2 * alpha):g}% Clopper-Pearson CI {ci[0]:.3f} to "
                      f"{ci[1]:.3f}) with {int(a.n_readers)} readers, {int(pos)} diseased and "
                      f"{int(neg)} non-diseased cases, AUCs {aucs[0]:.3g} vs {aucs[1]:.3g}, "
                      f"Roe-Metz components {comp}, seed {seed}."))
        out.append(item)
    return out
