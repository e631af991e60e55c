"""The protocol's ``consistency`` section: pre-specified fairness, subgroup-consistency and
multi-site heterogeneity assessments.

It names the factors whose levels are compared (the sites, a subgroup of the protocol's
``subgroups``, or the crossing of two of them, e.g. sex x age band), the endpoints they apply to
(sensitivity, specificity, AUC), how per-site estimates are pooled (random effects: REML,
DerSimonian-Laird or Paule-Mandel, with or without Knapp-Hartung), the minimum number of
positives / negatives a level needs to be compared, and the acceptance rules that the engine
evaluates into ``results.json['consistency']``. The rules are pre-specified secondary
assessments: they are reported beside the hypotheses and never enter the multiplicity family.

Rule types:

* ``prediction_lower_bound``: the lower bound of the prediction interval for a new site (a
  pooled factor) is at least ``threshold``;
* ``level_lower_bound``: no compared level's lower confidence bound lies below ``threshold``,
  or below the endpoint's performance goal minus ``margin``;
* ``interaction_or_gap``: the interaction test's p-value is above ``p_above`` or the upper
  confidence bound of the largest gap between levels is below ``gap_below``.

The cross-section checks (a factor naming an unknown subgroup, a rule naming an endpoint or a
factor the section does not list, ...) are in :func:`consistency_problems`, run with the other
cross-field checks so that every problem carries its file and line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, model_validator

from validation.errors import did_you_mean
from validation.protocol.sections import Identifier, Number, Whole, _Model
from validation.protocol.vocabulary import Loc

#: the built-in factor: the test set's sites (manifest column ``site``)
SITE_FACTOR = "site"
#: endpoint kinds a consistency assessment applies to
CONSISTENCY_KINDS = ("sensitivity", "specificity", "auc")
RULE_TYPES = ("prediction_lower_bound", "level_lower_bound", "interaction_or_gap")


class ConsistencyFactor(_Model):
    """A factor whose levels are compared.

    ``id`` is ``site`` or the id of one of the protocol's ``subgroups``; with ``cross`` (two
    such names) the levels are the crossed levels ``"a x b"`` and ``id`` names the crossing.
    ``pool``: pool the levels' estimates by random effects (heterogeneity, prediction interval
    for a new level, bivariate model); default true for ``site``, false otherwise.
    """

    id: Identifier
    cross: list[Identifier] | None = Field(
        default=None, min_length=2, max_length=2,
        description="Two factors (site or subgroup ids) whose crossed levels form this factor.",
    )
    pool: bool | None = Field(
        default=None,
        description="Random-effects pooling over the levels (default: true for site only).",
    )

    @model_validator(mode="after")
    def _distinct(self) -> ConsistencyFactor:
        if self.cross is not None and self.cross[0] == self.cross[1]:
            raise ValueError(f"'cross' must name two different factors; got {self.cross!r}")
        return self

    @property
    def pooled(self) -> bool:
        """Whether the levels are pooled by random effects."""
        return bool(self.pool) if self.pool is not None else self.id == SITE_FACTOR

    @property
    def parts(self) -> tuple[str, ...]:
        """The factors (site or subgroup ids) this factor is made of."""
        return tuple(self.cross) if self.cross else (self.id,)


class Pooling(_Model):
    """Random-effects pooling of per-level estimates (logit scale)."""

    method: Literal["reml", "dl", "pm"] = Field(
        default="reml", description="tau2 estimator: REML, DerSimonian-Laird or Paule-Mandel."
    )
    knha: bool = Field(default=True, description="Knapp-Hartung adjustment of the pooled CI.")


class ConsistencyRule(_Model):
    """A pre-specified acceptance rule (a secondary assessment)."""

    id: Identifier
    type: Literal["prediction_lower_bound", "level_lower_bound", "interaction_or_gap"]
    endpoint: Identifier
    factor: Identifier
    threshold: Number | None = Field(
        default=None, gt=0.0, lt=1.0,
        description="Lower bound that must be reached (prediction_lower_bound, level_lower_bound).",
    )
    margin: Number | None = Field(
        default=None, gt=0.0, lt=1.0,
        description="level_lower_bound: the bound is the endpoint's performance goal minus margin.",
    )
    p_above: Number = Field(
        default=0.05, gt=0.0, lt=1.0, description="interaction_or_gap: interaction p must exceed it."
    )
    gap_below: Number = Field(
        default=0.10, gt=0.0, lt=1.0,
        description="interaction_or_gap: or the gap's upper confidence bound must be below it.",
    )
    description: str | None = None

    @model_validator(mode="after")
    def _fields(self) -> ConsistencyRule:
        if self.type == "prediction_lower_bound":
            if self.threshold is None:
                raise ValueError("a prediction_lower_bound rule needs 'threshold' (e.g. 0.80)")
            if self.margin is not None:
                raise ValueError("'margin' applies to level_lower_bound rules only")
        elif self.type == "level_lower_bound":
            if (self.threshold is None) == (self.margin is None):
                raise ValueError(
                    "a level_lower_bound rule needs exactly one of 'threshold' (a fixed bound) or "
                    "'margin' (the endpoint's performance goal minus margin)"
                )
        elif self.threshold is not None or self.margin is not None:
            raise ValueError("an interaction_or_gap rule takes 'p_above' and 'gap_below', not "
                             "'threshold' or 'margin'")
        return self


class Consistency(_Model):
    """Pre-specified subgroup-consistency and multi-site heterogeneity assessments."""

    endpoints: list[Identifier] = Field(
        min_length=1, description="Endpoint ids (kind sensitivity, specificity or auc)."
    )
    factors: list[ConsistencyFactor] = Field(min_length=1)
    pooling: Pooling = Field(default_factory=Pooling)
    min_level_size: Whole = Field(
        default=30, ge=1,
        description="Minimum positives (sensitivity, AUC) and negatives (specificity, AUC) for a "
                    "level to be compared; smaller levels are shown and flagged.",
    )
    working_correlation: Literal["exchangeable", "independence"] = Field(
        default="exchangeable", description="GEE working correlation within a patient."
    )
    rules: list[ConsistencyRule] = Field(default_factory=list)
    description: str | None = None

    def factor(self, factor_id: str) -> ConsistencyFactor:
        """The factor with this id (``KeyError`` if none)."""
        for f in self.factors:
            if f.id == factor_id:
                return f
        raise KeyError(factor_id)


def _items(seq: Any) -> list[tuple[int, Mapping[str, Any]]]:
    if not isinstance(seq, list):
        return []
    return [(i, x) for i, x in enumerate(seq) if isinstance(x, Mapping)]


def consistency_problems(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """Problems relating the ``consistency`` section to the rest of the protocol.

    Works on the YAML-loaded mapping; a missing or malformed section gives no problem here
    (the model reports it). Returns ``(location, message)`` pairs.
    """
    sec = data.get("consistency")
    if not isinstance(sec, Mapping):
        return []
    out: list[tuple[Loc, str]] = []
    subgroups = {x.get("id") for _, x in _items(data.get("subgroups")) if isinstance(x.get("id"), str)}
    known = sorted({SITE_FACTOR} | {s for s in subgroups if isinstance(s, str)})
    endpoints = {x.get("id"): x for _, x in _items(data.get("endpoints")) if isinstance(x.get("id"), str)}
    listed: list[str] = []
    eps = sec.get("endpoints")
    if isinstance(eps, list):
        for i, eid in enumerate(eps):
            if not isinstance(eid, str):
                continue
            loc: Loc = ("consistency", "endpoints", i)
            if eid in listed:
                out.append((loc, f"endpoint {eid!r} is listed twice"))
            elif eid not in endpoints:
                out.append((loc, f"unknown endpoint {eid!r}; name an endpoint of the protocol."
                                 f"{did_you_mean(eid, list(endpoints))}"))
            elif endpoints[eid].get("kind") not in CONSISTENCY_KINDS:
                out.append((loc, f"endpoint {eid!r} is of kind {endpoints[eid].get('kind')!r}; a "
                                 f"consistency assessment applies to {', '.join(CONSISTENCY_KINDS)}"))
            listed.append(eid)
    factors: dict[str, Mapping[str, Any]] = {}
    for i, f in _items(sec.get("factors")):
        fid = f.get("id")
        if not isinstance(fid, str):
            continue
        if fid in factors:
            out.append((("consistency", "factors", i, "id"), f"duplicate factor {fid!r}"))
            continue
        factors[fid] = f
        cross = f.get("cross")
        if isinstance(cross, list):
            if fid in known:
                out.append((("consistency", "factors", i, "id"),
                            f"a crossed factor needs a name of its own; {fid!r} is already a "
                            "site or subgroup id"))
            for j, part in enumerate(cross):
                if isinstance(part, str) and part not in known:
                    out.append((("consistency", "factors", i, "cross", j),
                                f"unknown factor {part!r}; name 'site' or a subgroup id "
                                f"({', '.join(known)}).{did_you_mean(part, known)}"))
        elif fid not in known:
            out.append((("consistency", "factors", i, "id"),
                        f"unknown factor {fid!r}; name 'site' or a subgroup id ({', '.join(known)}), "
                        f"or give 'cross' for an intersection.{did_you_mean(fid, known)}"))
    hyp_ids = {h.get("id") for _, h in _items(data.get("hypotheses"))}
    goals = {h.get("endpoint") for _, h in _items(data.get("hypotheses"))
             if h.get("type") == "performance_goal" and isinstance(h.get("goal"), (int, float))}
    seen: dict[str, int] = {}
    for i, r in _items(sec.get("rules")):
        rid = r.get("id")
        if isinstance(rid, str):
            if rid in seen:
                out.append((("consistency", "rules", i, "id"),
                            f"duplicate rule id {rid!r} (also consistency.rules[{seen[rid]}])"))
            elif rid in hyp_ids:
                out.append((("consistency", "rules", i, "id"),
                            f"rule id {rid!r} is also a hypothesis id; both appear in the decisions "
                            "table, so give the rule its own id"))
            seen.setdefault(rid, i)
        eid, fid = r.get("endpoint"), r.get("factor")
        if isinstance(eid, str) and eid not in listed:
            out.append((("consistency", "rules", i, "endpoint"),
                        f"unknown endpoint {eid!r}; a rule names one of consistency.endpoints "
                        f"({', '.join(listed)}).{did_you_mean(eid, listed)}"))
        if isinstance(fid, str) and fid not in factors:
            out.append((("consistency", "rules", i, "factor"),
                        f"unknown factor {fid!r}; a rule names one of consistency.factors "
                        f"({', '.join(factors)}).{did_you_mean(fid, list(factors))}"))
        elif isinstance(fid, str) and r.get("type") == "prediction_lower_bound":
            f = factors[fid]
            pool = f.get("pool")
            pooled = bool(pool) if isinstance(pool, bool) else fid == SITE_FACTOR and not f.get("cross")
            if not pooled:
                out.append((("consistency", "rules", i, "factor"),
                            f"a prediction_lower_bound rule needs a pooled factor; {fid!r} is not "
                            "pooled (set 'pool: true' on it)"))
        if (r.get("type") == "level_lower_bound" and r.get("margin") is not None
                and isinstance(eid, str) and eid in listed and eid not in goals):
            out.append((("consistency", "rules", i, "margin"),
                        f"'margin' counts from the endpoint's performance goal, and endpoint {eid!r} "
                        "has no performance_goal hypothesis; give 'threshold' instead"))
    return out
