"""Simulation-based power of an MRMC protocol (``validation protocol sample-size --simulate N``).

For each sample-size assumption of a reader-study (MRMC) superiority hypothesis, ``N`` two-modality
studies with the protocol's planned readers and cases are simulated from Roe-Metz parameters
(:mod:`validation.stats.mrmc.simulation`): stated components, or converted from a pilot reader
study's Obuchowski-Rockette parameters (:mod:`validation.analysis.mrmc_pilot`, Hillis 2020),
the separations set so that the model's expected AUCs are the assumption's
``comparator_expected`` and ``expected``; each study is
analysed by the Obuchowski-Rockette RRRC test (Hillis df) and the empirical power is the share
rejected, with its Clopper-Pearson interval. One-sided ``alpha`` is run as the two-sided test at
``2 alpha``; a rejection in the wrong direction also counts (negligible for a positive effect).
Non-inferiority, equivalence and performance-goal hypotheses get a note (the simulated test is
of no difference). Beside the empirical power: the formula-based power (Hillis, Obuchowski and
Berbaum 2011) for the same readers and cases.
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


def simulated_mrmc_power(protocol: Any, *, n_studies: int, seed: int, components: Any = None,
                         pilot: dict[str, Any] | None = None, b_method: str = "unspecified",
                         b_value: float | None = None) -> list[dict[str, Any]]:
    """One entry per MRMC assumption: the empirical power (or a note why none).

    The Roe-Metz parameters: ``components`` where given; else converted from the pilot
    (``pilot``, the OR parameters of a pilot's ratings, else the assumption's
    ``variance_components`` with ``var_r``) by :func:`validation.stats.or_to_rm` at the
    assumption's AUCs (``b_method``, ``b_value`` as there); else Roe and Metz's defaults.
    Each entry also carries the formula-based power (Hillis, Obuchowski and Berbaum 2011) for
    the same readers and cases: from the OR parameters the simulated model implies at the
    planned case numbers (``model``) and, with a pilot, from the pilot's components scaled to
    the planned cases (``pilot``, the formula-based plan's own computation).
    """
    from validation.analysis.mrmc_pilot import convert_pilot, pilot_from_components
    from validation.protocol.vocabulary import MRMC_KINDS
    from validation.stats.mrmc.simulation import RoeMetzComponents, simulate_or_rejections

    plan = protocol.sample_size
    if plan is None or not plan.assumptions:
        raise ProtocolError("the protocol has no 'sample_size' section with 'assumptions'; "
                            "add the MRMC assumption (hypothesis, expected, comparator_expected, "
                            "n_readers) to simulate its power.")
    alpha = float(protocol.one_sided_level)
    out: list[dict[str, Any]] = []
    for i, a in enumerate(plan.assumptions):
        h = protocol.hypothesis(a.hypothesis)
        if protocol.endpoint(h.endpoint).kind not in MRMC_KINDS:
            continue
        item: dict[str, Any] = {"hypothesis": h.id, "type": h.type, "endpoint": h.endpoint}
        pos, neg = plan.planned_positive, plan.planned_negative
        if h.type != "superiority" or h.margin:
            item["note"] = (f"no simulation for an MRMC {h.type.replace('_', ' ')} hypothesis"
                            f"{' with a margin' if h.margin else ''} (the simulated test is of "
                            "no difference).")
            out.append(item)
            continue
        if a.n_readers is None or a.comparator_expected is None or not pos or not neg:
            item["note"] = ("simulation needs n_readers and comparator_expected in the assumption "
                            "and planned_positive and planned_negative in sample_size.")
            out.append(item)
            continue
        aucs = (float(a.comparator_expected), float(a.expected))
        notes: list[str] = []
        where = f"sample_size.assumptions[{i}] (hypothesis {h.id})"
        try:
            source_pilot = None if components is not None else (
                pilot or pilot_from_components(a.variance_components, plan))
        except InputError as exc:
            raise InputError(f"{where}, pilot variance_components: {exc}") from None
        rm = None
        if components is not None:
            comp, source = components, "components"
        elif source_pilot is None:
            comp, source = RoeMetzComponents(), "default_components"
            notes.append("No pilot: Roe and Metz's default components are simulated. Give "
                         "--pilot (a pilot reader study) or the assumption's variance_components "
                         "(with var_r) to simulate from a pilot.")
        else:
            try:
                rm, used, more = convert_pilot(source_pilot, aucs, b_method=b_method,
                                               b_value=b_value)
            except InputError as exc:
                raise InputError(f"{where}, pilot "
                                 f"{source_pilot.get('file') or 'variance_components'}: "
                                 f"{exc}") from None
            comp, source = rm.components(), str(source_pilot["source"])
            notes.extend(more)
        mus = list(rm.delta) if rm is not None else [_mu(x, comp) for x in aucs]
        res = simulate_or_rejections(
            mus, n_readers=int(a.n_readers), n_nondiseased=int(neg), n_diseased=int(pos),
            n_studies=n_studies, components=comp, alpha=2.0 * alpha, seed=seed)
        lo, hi = stats.beta.ppf([alpha, 1 - alpha], [res.rejections, res.rejections + 1],
                                [n_studies - res.rejections + 1, n_studies - res.rejections])
        ci = (float(lo) if res.rejections > 0 else 0.0,
              float(hi) if res.rejections < n_studies else 1.0)
        formula = _formula_power(mus, comp, source_pilot if rm is not None else None,
                                 effect=aucs[1] - aucs[0], n_readers=int(a.n_readers),
                                 n0=int(neg), n1=int(pos), alpha=2.0 * alpha)
        values = {k: float(getattr(comp, k)) for k in COMPONENT_KEYS}
        item.update(
            power=res.estimate, rejections=res.rejections, n_studies=n_studies,
            ci=ci, confidence=1 - 2 * alpha, seed=seed, n_readers=int(a.n_readers),
            n_diseased=int(pos), n_nondiseased=int(neg), expected_auc=list(res.expected_auc),
            mean_auc=list(res.mean_auc), components=values, source=source,
            separations=[float(m) for m in mus], formula_power=formula,
            method=f"{res.method}; two-sided test at {2 * alpha:g}")
        if rm is not None:
            item["pilot"] = {**{k: v for k, v in source_pilot.items() if k != "notes"},  # type: ignore[union-attr]
                             "used": used}
            item["roe_metz"] = rm.to_dict()
        if notes:
            item["notes"] = notes
        item["text"] = _text(h.id, item, aucs, rm, alpha)
        out.append(item)
    return out


def _formula_power(mus: list[float], comp: Any, pilot: dict[str, Any] | None, *, effect: float,
                   n_readers: int, n0: int, n1: int, alpha: float) -> dict[str, Any]:
    """Hillis, Obuchowski and Berbaum (2011) power for the same readers and cases."""
    from validation.stats import mrmc_power, rm_to_or

    if effect == 0:
        return {"model": None, "pilot": None}
    o = rm_to_or(delta1=mus[0], delta2=mus[1], var_r=comp.var_r, var_tr=comp.var_tr,
                 var_c=comp.var_c, var_tc=comp.var_tc, var_rc=comp.var_rc, var_e=comp.var_e,
                 b=comp.b, n0=n0, n1=n1)
    common: dict[str, Any] = {"effect": effect, "n_readers": n_readers, "n_cases": n0 + n1,
                              "alpha": alpha}
    model = mrmc_power(var_tr=o.var_tr, var=o.var_error, cov1=o.cov1, cov2=o.cov2,
                       cov3=o.cov3, pilot_cases=n0 + n1, **common).power
    from_pilot = None
    if pilot is not None:
        from_pilot = mrmc_power(var_tr=pilot["var_tr"], var=pilot["var"], cov1=pilot["cov1"],
                                cov2=pilot["cov2"], cov3=pilot["cov3"],
                                pilot_cases=int(pilot["n_nondiseased"]) + int(pilot["n_diseased"]),
                                **common).power
    return {"model": model, "pilot": from_pilot,
            "model_or": {"var_r": o.var_r, "var_tr": o.var_tr, "var": o.var_error,
                         "cov1": o.cov1, "cov2": o.cov2, "cov3": o.cov3}}


def _text(hid: str, it: dict[str, Any], aucs: tuple[float, float], rm: Any, alpha: float) -> str:
    ci, n = it["ci"], it["n_studies"]
    comp = it["components"]
    if rm is not None:
        where = ("the pilot ratings " + str(it["pilot"].get("file"))
                 if it["source"] == "pilot_ratings" else "the pilot variance components")
        params = (f"Roe-Metz parameters converted from {where} (Hillis 2020): delta "
                  f"{rm.delta[0]:.4g} / {rm.delta[1]:.4g}, var_r {comp['var_r']:.4g}, var_tr "
                  f"{comp['var_tr']:.4g}, var_c {comp['var_c']:.4g}, var_tc {comp['var_tc']:.4g}, "
                  f"var_rc {comp['var_rc']:.4g}, var_e {comp['var_e']:.4g}, b {comp['b']:.4g} "
                  f"({rm.b_method})")
    else:
        params = f"Roe-Metz components {comp}"
    f = it["formula_power"]
    formula = ""
    if f.get("model") is not None:
        formula = f"formula-based power (Hillis 2011) {f['model']:.3f} for the simulated model"
        if f.get("pilot") is not None:
            formula += f", {f['pilot']:.3f} from the pilot components"
    lines = [
        f"{hid}: simulated power {it['power']:.3f} ({it['rejections']}/{n} studies; "
        f"{100 * (1 - 2 * alpha):g}% Clopper-Pearson CI {ci[0]:.3f} to {ci[1]:.3f}) with "
        f"{it['n_readers']} readers, {it['n_diseased']} diseased and {it['n_nondiseased']} "
        f"non-diseased cases, AUCs {aucs[0]:.3g} vs {aucs[1]:.3g}, seed {it['seed']}.",
        f"  {params}.",
    ]
    if formula:
        lines.append(f"  Beside it: {formula}.")
    lines.extend(f"  Note: {x}" for x in it.get("notes", []))
    return "\n".join(lines)
