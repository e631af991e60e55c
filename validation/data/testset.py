"""Test-set checks, exclusions, indeterminate results and STARD flow counts.

Run after the manifest has passed its data specification and before any statistic:

* every subgroup and exclusion column the protocol names must exist in the manifest;
* no test site may be one of the model's training sites (the test set must be external);
* cases matching an exclusion rule (consent withdrawn, AI opt-out, ...) are removed and
  counted under the first rule they match, in protocol order; they are never analysed; a case
  with no reference standard (empty ``truth``) that no rule excluded is counted under
  ``reference_standard_missing``;
* cases whose index-test result is indeterminate (non-diagnostic image) stay in the analysed
  set, flagged, and are counted; the engine analyses them both as positive and as negative
  (FDA 2007, *Statistical Guidance on Reporting Results from Studies Evaluating Diagnostic
  Tests*, section 7);
* the STARD 2015 flow counts (Bossuyt et al. 2015, doi:10.1136/bmj.h5527) are derived.

All problems found are reported together as one :class:`~validation.errors.DataError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from validation.data.specs import _FALSE, _TRUE
from validation.errors import DataError, did_you_mean

INDETERMINATE = "indeterminate"
"""Name of the boolean column :func:`build_test_set` adds to the analysed cases."""
NO_REFERENCE = "reference_standard_missing"
"""Exclusion reason of a case whose reference standard (``truth``) is empty."""


@dataclass(frozen=True, slots=True)
class ExclusionRule:
    """Cases whose ``column`` holds one of ``values`` are excluded for ``reason``."""

    reason: str
    column: str
    values: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class TestSet:
    """The checked test set.

    Attributes
    ----------
    manifest : every eligible case (the validated manifest).
    analysed : cases left after the exclusions, with a boolean ``indeterminate`` column.
    excluded : excluded cases with a column ``exclusion_reason``.
    flow : STARD flow counts (see :func:`flow_counts`).
    """

    __test__ = False  # not a pytest test class

    manifest: pd.DataFrame
    analysed: pd.DataFrame
    excluded: pd.DataFrame
    flow: dict[str, Any] = field(default_factory=dict)

    @property
    def sites(self) -> list[str]:
        return sorted(self.analysed["site"].astype(str).unique().tolist())


def _matches(series: pd.Series, values: Iterable[Any]) -> pd.Series:
    """Boolean mask of the rows whose value is one of ``values`` (NA never matches)."""
    vals = list(values)
    if str(series.dtype) == "boolean":
        wanted: set[bool] = set()
        for v in vals:
            s = str(v).strip().lower()
            if isinstance(v, bool):
                wanted.add(v)
            elif s in _TRUE:
                wanted.add(True)
            elif s in _FALSE:
                wanted.add(False)
        return series.isin(list(wanted)).fillna(False).astype(bool)
    as_text = series.astype("string").str.strip()
    wanted_text = {str(v).strip() for v in vals}
    if pd.api.types.is_numeric_dtype(series.dtype):
        num = pd.to_numeric(pd.Series(vals, dtype=object), errors="coerce").dropna()
        return series.isin(num.tolist()).fillna(False).astype(bool)
    return as_text.isin(wanted_text).fillna(False).astype(bool)


def check_columns_exist(
    manifest: pd.DataFrame, columns: dict[str, str], *, source: str
) -> list[str]:
    """Problems for each ``{what: column}`` whose column is absent from ``manifest``."""
    problems = []
    have = [str(c) for c in manifest.columns]
    for what, col in columns.items():
        if col not in manifest.columns:
            problems.append(
                f"{what} names column {col!r}, which {source} does not have; its columns are "
                f"{', '.join(have)}.{did_you_mean(col, have)}"
            )
    return problems


def check_external_sites(
    manifest: pd.DataFrame, training_sites: Sequence[str], *, source: str
) -> list[str]:
    """Problems for each test-set site that is also a training site of the model."""
    train = {str(s).strip() for s in training_sites}
    test_sites = manifest["site"].astype(str).str.strip()
    problems = []
    for site in sorted(set(test_sites) & train):
        n = int((test_sites == site).sum())
        problems.append(
            f"site {site!r} ({n} case{'s' if n != 1 else ''} in {source}) is one of the model's "
            f"training sites ({', '.join(sorted(train))}); the test set must be external. "
            "Remove these cases from the manifest or correct model.training_sites."
        )
    return problems


def site_case_notes(
    manifest: pd.DataFrame, training_sites: Sequence[str], *, source: str
) -> list[str]:
    """Notes for test sites that equal a training site but for letter case (``t1``/``T1``).

    Sites are compared exactly, as the data compare them, so such a site counts as external;
    the note asks the reviewer to confirm that they are different sites.
    """
    train = {str(s).strip() for s in training_sites}
    notes = []
    for site in sorted(set(manifest["site"].astype(str).str.strip()) - train):
        twins = sorted(t for t in train if t.casefold() == site.casefold())
        if twins:
            notes.append(
                f"test site {site!r} in {source} differs from training site {twins[0]!r} only in "
                "letter case; sites are compared exactly, so it is treated as external. Confirm "
                "that they are different sites (or correct model.training_sites)."
            )
    return notes


def flow_counts(
    manifest: pd.DataFrame,
    analysed: pd.DataFrame,
    excluded: pd.DataFrame,
    reasons: Sequence[str],
) -> dict[str, Any]:
    """STARD flow counts.

    Keys: ``unit`` ("case"), ``eligible``, ``excluded`` ({reason: n}, every rule listed, then
    ``reference_standard_missing``; a case counted once under the first reason it matched),
    ``excluded_total``, ``analysed``,
    ``indeterminate``, ``determinate``, ``by_reference`` ({positive, negative} among the
    analysed), ``indeterminate_by_reference``, ``patients`` ({eligible, analysed}) and
    ``sites`` ({site: analysed n}).
    """
    ind = analysed[INDETERMINATE].astype(bool)
    truth = analysed["truth"].astype(int)  # every analysed case has a reference standard
    by_reason = excluded["exclusion_reason"].value_counts() if len(excluded) else pd.Series()
    return {
        "unit": "case",
        "eligible": int(len(manifest)),
        "excluded": {r: int(by_reason.get(r, 0)) for r in reasons},
        "excluded_total": int(len(excluded)),
        "analysed": int(len(analysed)),
        "indeterminate": int(ind.sum()),
        "determinate": int((~ind).sum()),
        "by_reference": {
            "positive": int((truth == 1).sum()),
            "negative": int((truth == 0).sum()),
        },
        "indeterminate_by_reference": {
            "positive": int(((truth == 1) & ind).sum()),
            "negative": int(((truth == 0) & ind).sum()),
        },
        "patients": {
            "eligible": int(manifest["patient_id"].nunique()),
            "analysed": int(analysed["patient_id"].nunique()),
        },
        "sites": {
            str(k): int(v)
            for k, v in sorted(analysed["site"].astype(str).value_counts().items())
        },
    }


def build_test_set(
    manifest: pd.DataFrame,
    *,
    source: str,
    exclusions: Sequence[ExclusionRule] = (),
    training_sites: Sequence[str] = (),
    indeterminate: ExclusionRule | None = None,
    subgroup_columns: dict[str, str] | None = None,
) -> TestSet:
    """Check the validated manifest, apply the exclusions and count the STARD flow.

    Parameters
    ----------
    manifest : the manifest as returned by :func:`validation.data.manifest.load_manifest`.
    source : file name used in messages.
    exclusions : rules in protocol order; a case is counted under the first it matches.
    training_sites : the locked model's training sites; any overlap is refused.
    indeterminate : the rule marking indeterminate (non-diagnostic) results; ``None`` means
        the ``non_diagnostic`` column when the manifest has it, else no indeterminate cases.
    subgroup_columns : ``{subgroup id: column}``; every column must exist.

    Raises
    ------
    DataError
        Listing every problem: missing subgroup or exclusion columns, training-site overlap,
        no analysable case left.
    """
    need: dict[str, str] = {}
    for sid, col in (subgroup_columns or {}).items():
        need[f"subgroup {sid!r}"] = col
    for rule in exclusions:
        need[f"exclusion rule {rule.reason!r}"] = rule.column
    if indeterminate is not None:
        need["the indeterminate rule"] = indeterminate.column
    problems = check_columns_exist(manifest, need, source=source)
    problems += check_external_sites(manifest, training_sites, source=source)
    if problems:
        raise DataError(f"{source}: the test set cannot be analysed:", problems=problems)

    reason = pd.Series(pd.NA, index=manifest.index, dtype="string")
    for rule in exclusions:
        hit = _matches(manifest[rule.column], rule.values) & reason.isna()
        reason[hit] = rule.reason
    no_truth = manifest["truth"].isna().to_numpy() & reason.isna().to_numpy()
    reason[no_truth] = NO_REFERENCE
    is_excluded = reason.notna()
    excluded = manifest[is_excluded].copy()
    excluded["exclusion_reason"] = reason[is_excluded]
    analysed = manifest[~is_excluded].copy()
    if indeterminate is not None:
        analysed[INDETERMINATE] = _matches(analysed[indeterminate.column], indeterminate.values)
    elif "non_diagnostic" in analysed.columns:
        analysed[INDETERMINATE] = analysed["non_diagnostic"].fillna(False).astype(bool)
    else:
        analysed[INDETERMINATE] = False
    analysed[INDETERMINATE] = analysed[INDETERMINATE].astype(bool)
    if len(analysed) == 0:
        raise DataError(
            f"{source}: every case is excluded ({len(excluded)} of {len(manifest)}); "
            "nothing is left to analyse. Check the exclusion rules."
        )
    reasons = [r.reason for r in exclusions] + [NO_REFERENCE]
    flow = flow_counts(manifest, analysed, excluded, reasons)
    notes = site_case_notes(manifest, training_sites, source=source)
    if notes:  # recorded in results.json with the flow, shown to the reviewer
        flow["notes"] = notes
    return TestSet(
        manifest=manifest,
        analysed=analysed.reset_index(drop=True),
        excluded=excluded.reset_index(drop=True),
        flow=flow,
    )
