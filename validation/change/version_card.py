"""The version card of a modified model: what changed, from which version, at which threshold.

A small YAML file beside the new artifact::

    version: "1.1.0"
    modification: retraining          # one of the plan's modification types
    parent: "1.0.0"                   # the version it was derived from (the current previous)
    operating_point: 0.5
    training_sites: [T1, T2, T3]      # none of them may be a test-set site
    description: Retrained on 2,000 more cases from T3.

:func:`card_contradictions` lists every way the card contradicts the plan and the lineage; the
change command refuses (exit 2) on any, before the test set is opened.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic import ValidationError as PydanticValidationError

from validation.errors import InputError, ProtocolError, did_you_mean

Label = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._+-]*$",
                                         max_length=100)]


class VersionCard(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Label
    modification: str
    parent: Label
    operating_point: float = Field(gt=0.0, lt=1.0)
    training_sites: list[str] = Field(default_factory=list)
    description: Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


def load_version_card(path: str | os.PathLike[str]) -> VersionCard:
    """Read and validate a version card (:class:`ProtocolError` listing every problem)."""
    from validation._yaml import safe_load

    p = Path(path)
    if not p.is_file():
        raise InputError(f"'--card' must be an existing version card (YAML); got {str(p)!r}.")
    try:
        data = safe_load(p.read_text(encoding="utf-8"))
    except Exception as exc:  # noqa: BLE001 - any YAML error is one refusal with its text
        raise ProtocolError(f"version card {p.name} is not readable YAML: {exc}") from None
    try:
        return VersionCard.model_validate(data)
    except PydanticValidationError as exc:
        raise ProtocolError(f"version card {p.name} has problems:", [
            f"{p.name}: {'.'.join(map(str, e['loc']))}: {e['msg']}"
            for e in exc.errors(include_url=False)]) from None


def card_contradictions(card: VersionCard, *, plan: Any, lineage: list[dict[str, Any]],
                        previous: dict[str, Any], model_sha256: str,
                        test_sites: set[str]) -> list[str]:
    """Every contradiction between the card, the plan and the lineage (empty when none)."""
    out: list[str] = []
    planned = [m.type for m in plan.modifications]
    if plan.modification(card.modification) is None:
        out.append(f"modification {card.modification!r} is not a type this plan allows "
                   f"({', '.join(planned)}).{did_you_mean(card.modification, planned)} An "
                   "unplanned modification needs a new submission, not this plan")
    if card.parent != previous["version"]:
        out.append(f"the card names parent version {card.parent!r}, but the current previous "
                   f"accepted version is {previous['version']!r}")
    if any(v["version"] == card.version for v in lineage):
        out.append(f"version {card.version!r} is already in the lineage of plan {plan.id!r}; "
                   "a version is decided once")
    overlap = sorted(set(card.training_sites) & test_sites)
    if overlap:
        out.append(f"the card's training sites include test-set sites {overlap}: the "
                   "sequestered test set would no longer be independent")
    same = model_sha256 == previous["model_sha256"]
    if card.modification == "threshold_change":
        if not same:
            out.append("a threshold change keeps the model: the artifact's sha256 "
                       f"{model_sha256[:12]}... differs from the previous version's "
                       f"{previous['model_sha256'][:12]}...")
        if float(previous["operating_point"]) == card.operating_point:
            out.append(f"a threshold change needs a new operating point; the card keeps "
                       f"{card.operating_point}")
    elif same:
        out.append(f"a {card.modification} needs a new artifact, but its sha256 is the "
                   "previous version's")
    return out
