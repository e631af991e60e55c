"""Pilot Obuchowski-Rockette parameters for the simulation-based MRMC power (analysis layer).

``validation protocol sample-size --simulate N`` simulates studies from Roe-Metz parameters.
Where a pilot reader study is available they come from it: its OR parameters (from the
ratings with ``--pilot``, by the OR analysis with jackknife covariances as ``validation mrmc``
runs it, or the pilot variance components the formula-based plan reads from the assumption)
are converted to Roe-Metz parameters by :func:`validation.stats.or_to_rm` (Hillis 2020/2022).
The expected AUCs of the conversion are the assumption's (``comparator_expected`` and
``expected``), so the simulation has the pilot's variance structure and the planned effect,
as the formula-based power (Hillis, Obuchowski and Berbaum 2011) has.

Negative ANOVA estimates of ``var_r`` or ``var_tr`` are set to 0 (Hillis, Obuchowski and
Berbaum 2011 use ``max(var_tr, 0)``; the Roe-Metz model has no negative variance), with a note.
Negative error covariances cannot come from a Roe-Metz model: an error.
"""

from __future__ import annotations

from typing import Any

from validation.errors import InputError

OR_KEYS = ("var_r", "var_tr", "var", "cov1", "cov2", "cov3")


def pilot_modalities(protocol: Any, h: Any) -> tuple[str, str]:
    """(comparator, test) modality names of an MRMC hypothesis."""
    mods = [str(m) for m in protocol.reader_study.modalities]
    comparator = str(h.comparator) if h.comparator is not None else mods[0]
    test = next(m for m in mods if m != comparator)
    return comparator, test


def pilot_from_ratings(data: Any, modalities: tuple[str, str], *, name: str) -> dict[str, Any]:
    """OR pilot parameters of a reader-study table (columns reader, modality, case, truth,
    rating, as ``validation mrmc`` reads), the comparator modality first."""
    from validation.errors import DataError
    from validation.stats.mrmc import mrmc_analysis

    seen = sorted(str(m) for m in data["modality"].unique()) if "modality" in data else []
    missing = [m for m in modalities if m not in seen]
    if missing:
        raise DataError(f"{name}: the pilot has no ratings for modality "
                        f"{', '.join(map(repr, missing))} (it has {', '.join(seen) or 'none'}); "
                        "name the pilot's modalities as the protocol's reader_study.modalities.")
    df = data.assign(modality=data["modality"].astype(str))
    df = df[df["modality"].isin(modalities)]
    res = mrmc_analysis(df, method="or", covariance="jackknife", modalities=modalities)
    vc = res.variance_components
    truth = df.drop_duplicates("case")["truth"].astype(int)
    return {
        "source": "pilot_ratings", "file": name, "modalities": list(modalities),
        "auc": [float(res.modalities[m].estimate) for m in modalities],
        **{k: float(getattr(vc, k)) for k in OR_KEYS},
        "n_readers": int(res.n_readers), "n_nondiseased": int((truth == 0).sum()),
        "n_diseased": int((truth == 1).sum()),
    }


def pilot_from_components(vc: dict[str, Any] | None, plan: Any) -> dict[str, Any] | None:
    """OR pilot parameters from an assumption's ``variance_components``, or ``None`` when
    they are incomplete (``var_r`` is needed besides what the formula uses).

    The pilot's case mix is ``n_nondiseased`` and ``n_diseased`` where given, else its
    ``n_cases`` split in the planned proportion (a note says so)."""
    vc = vc or {}
    n = vc.get("n_cases") or vc.get("pilot_cases")
    if any(k not in vc for k in OR_KEYS) or not n:
        return None
    out: dict[str, Any] = {"source": "pilot_components",
                           **{k: float(vc[k]) for k in OR_KEYS}, "notes": []}
    if vc.get("n_nondiseased") and vc.get("n_diseased"):
        out["n_nondiseased"], out["n_diseased"] = int(vc["n_nondiseased"]), int(vc["n_diseased"])
        if out["n_nondiseased"] + out["n_diseased"] != int(n):
            raise InputError(f"the pilot's 'n_nondiseased' + 'n_diseased' must equal its "
                             f"n_cases ({int(n)}); got {out['n_nondiseased']} + "
                             f"{out['n_diseased']}.")
    else:
        pos, neg = plan.planned_positive, plan.planned_negative
        share = float(pos) / float(pos + neg) if pos and neg else (plan.prevalence or 0.5)
        n1 = min(max(int(round(float(n) * share)), 1), int(n) - 1)
        out["n_nondiseased"], out["n_diseased"] = int(n) - n1, n1
        out["notes"].append(
            f"The pilot's case mix is not given (variance_components n_nondiseased, "
            f"n_diseased): its {int(n)} cases are taken as {int(n) - n1} non-diseased and {n1} "
            "diseased, the planned proportion.")
    return out


def convert_pilot(pilot: dict[str, Any], aucs: tuple[float, float], *, b_method: str,
                  b_value: float | None) -> tuple[Any, dict[str, Any], list[str]]:
    """Roe-Metz parameters for ``pilot`` at the expected AUCs ``aucs`` (comparator, test).

    Returns the :class:`~validation.stats.mrmc.or_to_rm.RMParameters`, the OR inputs used
    (after the truncation of negative reader components) and the notes."""
    from validation.stats import or_to_rm

    notes = list(pilot.get("notes", []))
    used = {k: float(pilot[k]) for k in OR_KEYS}
    for key in ("var_r", "var_tr"):
        if used[key] < 0:
            notes.append(f"The pilot's {key} estimate {used[key]:.4g} is negative; it is set to 0 "
                         "(Hillis, Obuchowski and Berbaum 2011).")
            used[key] = 0.0
    var = used["var"]
    if not var > 0:
        raise InputError(f"the pilot error variance 'var' must be positive; got {var!r}.")
    corr = {f"corr{i}": used[f"cov{i}"] / var for i in (1, 2, 3)}
    for key, value in corr.items():
        if not 0.0 <= value <= 1.0:
            raise InputError(
                f"the pilot error correlation '{key}' = cov{key[-1]}/var must lie in [0, 1] for a "
                f"Roe-Metz model; got {value:.4g}. A negative error covariance cannot be "
                "simulated: check the pilot components, or give Roe-Metz components with "
                "--components.")
    kwargs: dict[str, Any] = {"mean_to_sigma": b_value} if b_method == "mean_to_sigma" else (
        {"b": b_value} if b_method == "specified" else {})
    rm = or_to_rm(auc1=aucs[0], auc2=aucs[1], var_r=used["var_r"], var_tr=used["var_tr"],
                  var_error=var, n0=int(pilot["n_nondiseased"]), n1=int(pilot["n_diseased"]),
                  b_method=b_method, **corr, **kwargs)
    notes.extend(rm.notes)
    inputs = {"auc": list(aucs), **used, **corr, "n_nondiseased": int(pilot["n_nondiseased"]),
              "n_diseased": int(pilot["n_diseased"])}
    return rm, inputs, notes
