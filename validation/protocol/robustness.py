"""The protocol's ``robustness`` section: perturbation families, severities and acceptance rules.

A robustness (stress) analysis re-runs the locked model on the test images after a stated,
seeded perturbation at each of a few severities and reports how the endpoints degrade
(NMPA guidance on AI medical devices: stress testing; EU AI Act Art. 15: accuracy and
robustness; CLAIM 2024 item on robustness analyses, doi:10.1148/ryai.240300).

.. code-block:: yaml

    robustness:
      endpoints: [sensitivity, specificity, auc]     # standalone endpoints re-estimated
      families:                                      # severities from mild to severe
        - {family: gaussian_noise, severities: [30, 20, 12]}   # SNR in dB
        - {family: gaussian_blur, severities: [0.8, 1.6]}      # sigma in pixels
      rules:                                         # pre-specified acceptance rules
        - {id: R1, endpoint: sensitivity, bound: lower, threshold: 0.80, up_to: 2}
      examples: 1                                    # example images per severity (panel)

Severity *levels* are numbered 1, 2, ... in the order listed (0 is the unperturbed run); a
rule holds when the endpoint's interval bound (``lower``: the CI lower bound; ``estimate``:
the point estimate) stays ``>= threshold`` at every level ``1 .. up_to`` of its family (of
every listed family when ``family`` is omitted; one decision per family). :data:`FAMILIES`
states each family's parameter, unit and allowed range; :func:`robustness_problems` checks a
section on plain data (so ``validation protocol check`` reports every problem with its line)
and :func:`card_problems` checks the families against the model card's declared input.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from validation.errors import did_you_mean
from validation.protocol.sections import Identifier, Number, Whole, _Model
from validation.protocol.vocabulary import PROPORTION_KINDS, Loc


@dataclass(frozen=True, slots=True)
class FamilySpec:
    """One perturbation family: its severity parameter, unit, allowed range and ordering.

    ``order``: ``decreasing`` (a smaller value is more severe: SNR, JPEG quality),
    ``increasing`` (a larger value is more severe) or ``magnitude`` (the distance from the
    identity -- ``|value|``, or ``|log value|`` for a factor -- grows). ``requires`` names the
    model-card input declaration the family needs (``bit_depth_8``, ``modality_mr``) or is
    empty.
    """

    parameter: str
    unit: str
    low: float
    high: float
    order: Literal["decreasing", "increasing", "magnitude", "log_magnitude"]
    requires: str
    description: str
    integer: bool = False


FAMILIES: dict[str, FamilySpec] = {
    "gaussian_noise": FamilySpec(
        "snr_db", "dB", 0.0, 60.0, "decreasing", "",
        "additive white Gaussian noise with sigma = mean intensity / 10^(SNR/20)"),
    "poisson_noise": FamilySpec(
        "snr_db", "dB", 0.0, 60.0, "decreasing", "",
        "quantum (Poisson) noise: photon counts scaled so that the SNR at the mean intensity "
        "is the stated value"),
    "gaussian_blur": FamilySpec(
        "sigma_px", "pixels", 0.1, 8.0, "increasing", "",
        "Gaussian blur (separable kernel of half-width ceil(3 sigma), edges replicated)"),
    "downsample": FamilySpec(
        "factor", "x", 1.1, 8.0, "increasing", "",
        "down-sampling by the factor (area-antialiased bilinear) and bilinear re-up-sampling to "
        "the original size"),
    "contrast": FamilySpec(
        "factor", "x", 0.1, 3.0, "log_magnitude", "",
        "contrast scaled about mid-grey: x' = 0.5 + factor (x - 0.5), clipped to [0, 1]"),
    "window_shift": FamilySpec(
        "offset", "fraction of the intensity range", -0.5, 0.5, "magnitude", "",
        "window (level) shift: x' = x + offset, clipped to [0, 1]"),
    "jpeg": FamilySpec(
        "quality", "JPEG quality", 5.0, 95.0, "decreasing", "bit_depth_8",
        "baseline JPEG compression (8-bit, libjpeg via Pillow) at the stated quality",
        integer=True),
    "rotation": FamilySpec(
        "degrees", "degrees", 0.5, 15.0, "increasing", "",
        "rotation about the image centre by the stated angle, sign drawn per case (bilinear, "
        "edges replicated)"),
    "translation": FamilySpec(
        "fraction", "fraction of the image size", 0.01, 0.15, "increasing", "",
        "translation by the stated fraction of the image size in a direction drawn per case "
        "(bilinear, edges replicated)"),
    "bias_field": FamilySpec(
        "amplitude", "log-intensity amplitude", 0.05, 1.0, "increasing", "modality_mr",
        "MRI bias field: multiplicative smooth field exp(a p(x, y)), p a seeded degree-3 "
        "polynomial scaled to [-1, 1]"),
}
"""The perturbation families a protocol may name, with their parameter and allowed range."""

REQUIREMENTS = {
    "bit_depth_8": "an 8-bit input (model card 'input.bit_depth: 8'); JPEG compression of 12- "
                   "or 16-bit images (CT, DX DICOM) would first destroy their dynamic range",
    "modality_mr": "a magnetic-resonance input (model card 'input.modality: MR'); a bias field "
                   "is an MRI artefact",
}
ROBUSTNESS_KINDS = PROPORTION_KINDS + ("auc",)
"""Endpoint kinds a robustness analysis re-estimates (standalone, not reader-study)."""
PAIRED_KINDS = ("sensitivity", "specificity", "accuracy", "auc")
"""Kinds with a paired comparison against the unperturbed run (same denominator cases)."""


class PerturbationFamily(_Model):
    """One family and its severities (the family's parameter values, mild to severe)."""

    family: str = Field(description=f"One of: {', '.join(FAMILIES)}.")
    severities: list[Number] = Field(
        min_length=1, max_length=10,
        description="Parameter values from mild to severe (see FAMILIES for the unit and range).")


class RobustnessRule(_Model):
    """``endpoint``'s ``bound`` stays >= ``threshold`` at every severity level 1 .. ``up_to``."""

    id: Identifier
    endpoint: Identifier
    family: str | None = Field(default=None, description="A listed family; omitted: each family.")
    bound: Literal["lower", "estimate"] = "lower"
    threshold: Number = Field(gt=0.0, lt=1.0)
    up_to: Whole = Field(ge=1, description="Severity level (1 = first listed severity).")


class Robustness(_Model):
    """Pre-specified secondary assessment of robustness to image perturbations."""

    endpoints: list[Identifier] = Field(min_length=1)
    families: list[PerturbationFamily] = Field(min_length=1)
    rules: list[RobustnessRule] = Field(default_factory=list)
    examples: Whole = Field(default=1, ge=0, le=4,
                            description="Example images per severity in the dossier's panel.")


def severity_key(family: str, value: float) -> float:
    """How severe ``value`` is within ``family`` (larger is more severe)."""
    spec = FAMILIES[family]
    if spec.order == "decreasing":
        return -value
    if spec.order == "magnitude":
        return abs(value)
    if spec.order == "log_magnitude":
        return abs(math.log(value)) if value > 0 else math.inf
    return value


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        return None
    return float(x)


def robustness_problems(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """Problems of the ``robustness`` section of a YAML-loaded protocol (location, message)."""
    out: list[tuple[Loc, str]] = []
    sec = data.get("robustness")
    if not isinstance(sec, Mapping):
        return out
    model = data.get("model")
    kind = model.get("kind") if isinstance(model, Mapping) else None
    if kind == "precomputed":
        out.append(((("robustness",)), "a robustness analysis perturbs the test images, so it "
                    "needs an image model (model.kind torchscript, torch_export or onnx); "
                    "precomputed predictions cannot be perturbed. Remove the section."))
    test_set = data.get("test_set")
    if kind != "precomputed" and isinstance(test_set, Mapping) and not test_set.get("images_root"):
        out.append((("robustness",), "a robustness analysis needs 'test_set.images_root' (the "
                    "images to perturb)."))
    endpoints = {e.get("id"): e for e in data.get("endpoints") or [] if isinstance(e, Mapping)}
    listed = sec.get("endpoints")
    for i, eid in enumerate(listed if isinstance(listed, list) else []):
        if eid not in endpoints:
            out.append((("robustness", "endpoints", i),
                        f"endpoint {eid!r} is not defined; defined: "
                        f"{', '.join(str(k) for k in endpoints)}.{did_you_mean(str(eid), endpoints)}"))
        elif endpoints[eid].get("kind") not in ROBUSTNESS_KINDS:
            out.append((("robustness", "endpoints", i),
                        f"endpoint {eid!r} has kind {endpoints[eid].get('kind')!r}; a robustness "
                        f"analysis re-estimates standalone endpoints ({', '.join(ROBUSTNESS_KINDS)})."))
    counts: dict[str, int] = {}
    fams = sec.get("families")
    for i, f in enumerate(fams if isinstance(fams, list) else []):
        if not isinstance(f, Mapping):
            continue
        name = f.get("family")
        at: Loc = ("robustness", "families", i, "family")
        if not isinstance(name, str) or name not in FAMILIES:
            out.append((at, f"unknown perturbation family {name!r}; use one of "
                            f"{', '.join(FAMILIES)}.{did_you_mean(str(name), FAMILIES)}"))
            continue
        if name in counts:
            out.append((at, f"family {name!r} is listed twice; give all its severities in one "
                            "entry."))
        sev = f.get("severities")
        sev = sev if isinstance(sev, list) else []
        counts[name] = len(sev)
        out.extend(_severity_problems(name, sev, ("robustness", "families", i, "severities")))
    rules = sec.get("rules")
    seen: set[Any] = set()
    for i, r in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(r, Mapping):
            continue
        if r.get("id") in seen:
            out.append((("robustness", "rules", i, "id"), f"duplicate rule id {r.get('id')!r}"))
        seen.add(r.get("id"))
        if isinstance(listed, list) and r.get("endpoint") not in listed:
            out.append((("robustness", "rules", i, "endpoint"),
                        f"rule endpoint {r.get('endpoint')!r} must be one of robustness.endpoints "
                        f"({', '.join(str(x) for x in listed)})."))
        fam = r.get("family")
        up_to = r.get("up_to")
        if fam is not None and fam not in counts:
            out.append((("robustness", "rules", i, "family"),
                        f"rule family {fam!r} is not among the listed families "
                        f"({', '.join(counts)}).{did_you_mean(str(fam), counts)}"))
        elif isinstance(up_to, int) and not isinstance(up_to, bool):
            for name in ([fam] if fam is not None else list(counts)):
                if up_to > counts[name]:
                    out.append((("robustness", "rules", i, "up_to"),
                                f"'up_to' must be a severity level of family {name!r} (1 to "
                                f"{counts[name]}); got {up_to}."))
    return out


def _severity_problems(name: str, sev: list[Any], loc: Loc) -> list[tuple[Loc, str]]:
    spec = FAMILIES[name]
    out: list[tuple[Loc, str]] = []
    keys: list[float] = []
    for j, v in enumerate(sev):
        x = _num(v)
        if x is None:
            continue
        if not spec.low <= x <= spec.high:
            out.append(((*loc, j), f"severity {v!r} of {name} is outside its range: "
                                   f"{spec.parameter} in [{spec.low:g}, {spec.high:g}] {spec.unit}."))
            continue
        if spec.integer and x != int(x):
            out.append(((*loc, j), f"severity of {name} ({spec.parameter}) must be a whole "
                                   f"number; got {v!r}."))
        if spec.order in ("magnitude", "log_magnitude") and severity_key(name, x) == 0:
            out.append(((*loc, j), f"severity {v!r} of {name} is the identity (no perturbation); "
                                   "the unperturbed run is level 0 and always included."))
        keys.append(severity_key(name, x))
    if len(keys) == len(sev) and any(b <= a for a, b in zip(keys, keys[1:], strict=False)):
        out.append((loc, f"severities of {name} must be listed from mild to severe, each more "
                         f"severe than the one before ({_direction(spec)}); got {sev!r}."))
    return out


def _direction(spec: FamilySpec) -> str:
    return {"decreasing": f"{spec.parameter} decreasing",
            "increasing": f"{spec.parameter} increasing",
            "magnitude": f"|{spec.parameter}| increasing",
            "log_magnitude": f"{spec.parameter} moving away from 1"}[spec.order]


def card_problems(data: Mapping[str, Any], base_dir: Path) -> list[tuple[Loc, str]]:
    """Families that the model card's declared input does not allow (JPEG on 16-bit CT, ...).

    Reads ``model.card`` (YAML, relative to ``base_dir``) for ``input.bit_depth`` and
    ``input.modality``; a card that cannot be read is reported by the file checks.
    """
    from validation._yaml import safe_load

    sec = data.get("robustness")
    model = data.get("model")
    if not isinstance(sec, Mapping) or not isinstance(model, Mapping):
        return []
    fams = sec.get("families")
    need = [(i, f.get("family")) for i, f in enumerate(fams if isinstance(fams, list) else [])
            if isinstance(f, Mapping) and f.get("family") in FAMILIES
            and FAMILIES[str(f["family"])].requires]
    if not need:
        return []
    card_rel = model.get("card")
    spec: Mapping[str, Any] = {}
    if isinstance(card_rel, str) and (base_dir / card_rel).is_file():
        try:
            raw = safe_load((base_dir / card_rel).read_text(encoding="utf-8"))
        except Exception:  # malformed cards are reported where the card is loaded
            raw = None
        if isinstance(raw, Mapping) and isinstance(raw.get("input"), Mapping):
            spec = raw["input"]
    out: list[tuple[Loc, str]] = []
    for i, name in need:
        req = FAMILIES[str(name)].requires
        ok = allowed_by_input(req, spec.get("bit_depth"), spec.get("modality"))
        if not ok:
            declared = (f"bit_depth {spec.get('bit_depth')!r}, modality {spec.get('modality')!r}"
                        if spec else "no input section")
            out.append((("robustness", "families", i, "family"),
                        f"perturbation {name!r} needs {REQUIREMENTS[req]}; the model card "
                        f"declares {declared}. Remove the family or correct the card."))
    return out


def allowed_by_input(requires: str, bit_depth: Any, modality: Any) -> bool:
    """Whether a family's input requirement is met by a card's ``bit_depth`` and ``modality``."""
    if requires == "bit_depth_8":
        return bit_depth == 8
    if requires == "modality_mr":
        return isinstance(modality, str) and modality.upper() == "MR"
    return True
