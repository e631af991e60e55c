"""The protocol's ``localization`` section: a free-response (marks) reader study.

Marks of the readers in each modality (``data_specs/reader_marks.yaml``), the lesion truth
(``data_specs/lesion_truth.yaml``) and, for standalone endpoints, the algorithm's marks. The
endpoint kinds ``mrmc_wafroc`` (JAFROC: OR or DBM on the readers' wAFROC), ``wafroc`` and
``froc_llf`` (the algorithm's wAFROC and its lesion-localization fraction at
``llf_threshold``, patient-cluster bootstrap) need it; :func:`localization_problems` says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator

from validation.protocol.sections import Identifier, RelPath, _Model, _no_duplicates
from validation.protocol.vocabulary import LOCALIZATION_KINDS, Loc


class Localization(_Model):
    """A free-response reader study (marks matched to lesions) and the algorithm's marks."""

    marks: RelPath | None = Field(
        default=None, description="Readers' marks, one row per mark (reader_marks spec).")
    lesions: RelPath = Field(description="Lesion truth, one row per lesion (lesion_truth spec).")
    algorithm_marks: RelPath | None = Field(
        default=None, description="The algorithm's marks (reader_marks spec, one reader).")
    modalities: list[Identifier] = Field(
        default_factory=list,
        description="Reading conditions of the marks; a difference is the second minus the first.")
    figure_of_merit: Literal["wAFROC", "AFROC", "wAFROC1", "AFROC1"] = "wAFROC"
    llf_threshold: float | None = Field(
        default=None, description="Rating at or above which an algorithm mark counts (froc_llf).")

    @field_validator("modalities")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        _no_duplicates(v, "modalities")
        return v


def localization_problems(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """Endpoints of a localization kind need the section, and the files their kind reads."""
    out: list[tuple[Loc, str]] = []
    sec = data.get("localization")
    raw = data.get("endpoints")
    eps: list[Any] = raw if isinstance(raw, list) else []
    for i, e in enumerate(eps):
        if not isinstance(e, Mapping) or e.get("kind") not in LOCALIZATION_KINDS:
            continue
        kind = e["kind"]
        if not isinstance(sec, Mapping):
            out.append((("endpoints", i, "kind"),
                        f"endpoint {e.get('id')!r} of kind {kind!r} needs a 'localization' "
                        "section (marks, lesions, modalities); the protocol has none."))
            continue
        ci = e.get("ci")
        if kind == "mrmc_wafroc":
            if not sec.get("marks") or len(sec.get("modalities") or []) != 2:
                out.append((("endpoints", i, "kind"),
                            f"endpoint {e.get('id')!r} (mrmc_wafroc) needs localization.marks "
                            "and exactly two localization.modalities."))
            if ci is not None and ci not in ("obuchowski_rockette", "dbm"):
                out.append((("endpoints", i, "ci"), f"'ci' must be obuchowski_rockette or dbm "
                                                    f"for mrmc_wafroc; got {ci!r}."))
        else:
            if not sec.get("algorithm_marks"):
                out.append((("endpoints", i, "kind"),
                            f"endpoint {e.get('id')!r} ({kind}) needs "
                            "localization.algorithm_marks."))
            if ci is not None and ci != "cluster_bootstrap":
                out.append((("endpoints", i, "ci"), f"'ci' must be cluster_bootstrap for {kind}; "
                                                    f"got {ci!r}."))
            if kind == "froc_llf" and sec.get("llf_threshold") is None:
                out.append((("localization", "llf_threshold"),
                            f"endpoint {e.get('id')!r} (froc_llf) needs llf_threshold, the "
                            "rating at which the algorithm's marks count."))
    return out
