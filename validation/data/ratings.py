"""Reader-study ratings: specification check and matching to the test set."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from validation.data.specs import load_table
from validation.data.testset import TestSet
from validation.errors import DataError

SPEC = "reader_ratings"


@dataclass(frozen=True, slots=True)
class Ratings:
    """Ratings of the analysed cases, in long format, with ``truth`` joined from the manifest.

    ``dropped_excluded`` counts rating rows of excluded cases (never analysed).
    """

    table: pd.DataFrame
    dropped_excluded: int


def load_ratings(
    path: str | os.PathLike[str],
    test_set: TestSet,
    *,
    modalities: Sequence[str],
    design: str = "fully_crossed",
) -> Ratings:
    """Read and check the ratings file against ``data_specs/reader_ratings.yaml``.

    Every rated case must exist in the manifest, every modality must be one the protocol
    names, and every protocol modality must be present. Ratings of excluded cases are dropped
    and counted.

    Raises
    ------
    DataError
        Listing every problem at once.
    """
    p = Path(path)
    df = load_table(p, SPEC, what="reader ratings")
    problems: list[str] = []
    all_ids = set(test_set.manifest["case_id"].astype(str))
    unknown = sorted(set(df["case_id"].astype(str)) - all_ids)
    if unknown:
        problems.append(
            f"{len(unknown)} rated case(s) are not in the test-set manifest: "
            f"{', '.join(map(repr, unknown[:20]))}{' ...' if len(unknown) > 20 else ''}."
        )
    mods = [str(m) for m in modalities]
    seen = sorted(set(df["modality"].astype(str)))
    for m in seen:
        if m not in mods:
            problems.append(
                f"modality {m!r} is not one of the protocol's reader_study.modalities "
                f"({', '.join(mods)})."
            )
    for m in mods:
        if m not in seen:
            problems.append(f"the protocol's modality {m!r} has no ratings in {p.name}.")
    if problems:
        raise DataError(f"{p.name} does not match the protocol and manifest:", problems=problems)
    analysed_ids = set(test_set.analysed["case_id"].astype(str))
    keep = df["case_id"].astype(str).isin(analysed_ids)
    truth = test_set.analysed.set_index(test_set.analysed["case_id"].astype(str))["truth"]
    table = df[keep].copy()
    unread = sorted(analysed_ids - set(table["case_id"].astype(str)))
    if unread:
        raise DataError(
            f"{p.name}: {len(unread)} analysed case(s) of the test set have no rating at all; "
            f"the reader study reads every analysed case (the flow diagram and the standalone "
            f"analysis count them):",
            problems=[f"case {c!r} has no rating" for c in unread[:20]]
            + ([f"... and {len(unread) - 20} more"] if len(unread) > 20 else []),
        )
    missing = (_missing_readings(table, mods) if design == "fully_crossed"
               else _readers_without_modality(table, mods))
    if missing and design != "fully_crossed":
        raise DataError(f"{p.name}: every reader must read in every modality of a "
                        f"{design.replace('_', '-')} design:", problems=missing[:20])
    if missing:
        raise DataError(
            f"{p.name}: the reader study is not fully crossed; every reader must read every "
            f"analysed rated case in every modality ({len(missing)} reading(s) missing):",
            problems=missing[:20] + ([f"... and {len(missing) - 20} more"]
                                     if len(missing) > 20 else []),
        )
    table["truth"] = truth.reindex(table["case_id"].astype(str)).astype(int).to_numpy()
    return Ratings(table=table.reset_index(drop=True), dropped_excluded=int((~keep).sum()))


def _readers_without_modality(table: Any, modalities: Sequence[str]) -> list[str]:
    """Readers with no rating at all in one of the modalities (not analysable by design)."""
    seen = table.groupby(table["reader_id"].astype(str))["modality"].agg(
        lambda s: set(s.astype(str)))
    return [f"reader {r!r} has no readings in modality {m!r}"
            for r, mods in seen.items() for m in modalities if m not in mods]


def _missing_readings(table: Any, modalities: Sequence[str]) -> list[str]:
    """Reader x case x modality combinations without a rating (the design must be crossed)."""
    readers = sorted(set(table["reader_id"].astype(str)))
    cases = sorted(set(table["case_id"].astype(str)))
    full = pd.MultiIndex.from_product([readers, cases, list(modalities)],
                                      names=["reader_id", "case_id", "modality"])
    have = pd.MultiIndex.from_arrays([table["reader_id"].astype(str),
                                      table["case_id"].astype(str),
                                      table["modality"].astype(str)])
    return [f"reader {r!r} has no rating of case {c!r} in modality {m!r}"
            for r, c, m in full.difference(have)]
