"""Seeded generator of the demo's multi-site standalone test set (tabular: manifest + scores).

The demo imitates an external validation of a chest-radiograph CADe model on four sites that
were not used for training (the model's training sites are ``T1`` and ``T2``). The sites differ
in size, prevalence, case mix (how separable positives are), score calibration (a shift of the
latent score), patient age and scanner manufacturers. About one patient in seven contributes
two findings (two cases sharing a ``patient_id``), with a patient-level random effect, so the
findings of one patient are correlated. A few patients withdrew consent or opted out of AI
analysis, and a few images are non-diagnostic (the model returns no score for them).

The same seed gives byte-identical files on every machine: numbers are drawn with
``numpy.random.default_rng(seed)`` and written with fixed formatting.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from validation._atomic import write_text_atomic
from validation.constants import DEFAULT_SEED
from validation.provenance.hashing import sha256_file

DEMO_APPROVER = "Demo Approver <demo.approver@example.org>"
DEMO_MEANING = "approved SAP (demo)"
TRAINING_SITES = ("T1", "T2")
MANUFACTURERS = ("GE", "Siemens", "Philips", "Canon", "Fujifilm")


@dataclass(frozen=True, slots=True)
class DemoSite:
    """Parameters of one simulated site."""

    site: str
    n_patients: int
    prevalence: float
    separation: float  # mean latent-score difference between positives and negatives
    shift: float  # site calibration shift of the latent score
    age_mean: float
    manufacturer_weights: tuple[float, ...]


SITES: tuple[DemoSite, ...] = (
    DemoSite(site="SITE-A", n_patients=220, prevalence=0.30, separation=2.2, shift=0.00,
             age_mean=58.0, manufacturer_weights=(0.6, 0.3, 0.1, 0.0, 0.0)),
    DemoSite(site="SITE-B", n_patients=160, prevalence=0.18, separation=1.8, shift=0.35,
             age_mean=64.0, manufacturer_weights=(0.1, 0.2, 0.6, 0.1, 0.0)),
    DemoSite(site="SITE-C", n_patients=140, prevalence=0.40, separation=2.5, shift=-0.30,
             age_mean=49.0, manufacturer_weights=(0.0, 0.5, 0.0, 0.3, 0.2)),
    DemoSite(site="SITE-D", n_patients=110, prevalence=0.22, separation=1.5, shift=0.15,
             age_mean=70.0, manufacturer_weights=(0.2, 0.0, 0.2, 0.0, 0.6)),
)


@dataclass(frozen=True, slots=True)
class DemoFiles:
    """What :func:`generate_demo_data` wrote."""

    manifest: Path
    predictions: Path
    predictions_sha256: str
    training_sites: tuple[str, ...]
    n_cases: int


@dataclass(frozen=True, slots=True)
class DemoFinding:
    """One finding of a simulated patient: its truth and the random parts of its score."""

    truth: int
    severity: float
    noise: float
    non_diagnostic: bool


@dataclass(frozen=True, slots=True)
class DemoPatient:
    """One simulated patient of a site (one or two findings)."""

    diseased: bool
    age: float
    sex: str
    manufacturer: str
    consent_withdrawn: bool
    ai_opt_out: bool
    effect: float
    findings: tuple[DemoFinding, ...]


def draw_patient(rng: np.random.Generator, site: DemoSite) -> DemoPatient:
    """Draw one patient of ``site`` (the demo's generator; the draws' order is fixed)."""
    w = np.asarray(site.manufacturer_weights, dtype=float)
    w = w / w.sum()
    n_find = 2 if rng.random() < 0.15 else 1
    diseased = rng.random() < site.prevalence
    age = float(np.clip(rng.normal(site.age_mean, 13.0), 18.0, 95.0))
    sex = "F" if rng.random() < 0.48 else "M"
    manufacturer = MANUFACTURERS[int(rng.choice(len(MANUFACTURERS), p=w))]
    consent_withdrawn = bool(rng.random() < 0.02)
    ai_opt_out = bool(rng.random() < 0.015)
    effect = float(rng.normal(0.0, 0.5))
    findings = []
    for f in range(n_find):
        # the second finding of a diseased patient is positive two times in three
        truth = int(diseased and (f == 0 or rng.random() < 0.67))
        severity = float(rng.gamma(2.0, 0.5)) if truth else 0.0
        noise = float(rng.normal(0.0, 1.0))
        non_diag = bool(rng.random() < 0.03)
        findings.append(DemoFinding(truth=truth, severity=severity, noise=noise,
                                    non_diagnostic=non_diag))
    return DemoPatient(diseased=bool(diseased), age=age, sex=sex, manufacturer=manufacturer,
                       consent_withdrawn=consent_withdrawn, ai_opt_out=ai_opt_out, effect=effect,
                       findings=tuple(findings))


def demo_score(site: DemoSite, patient: DemoPatient, finding: DemoFinding, *,
               positive_shift: float = 0.0) -> float:
    """The model's score of a finding: the logistic of the latent score.

    ``positive_shift`` is added to the latent score of positive findings (0 in the pivotal
    study; negative where surveillance simulates a scanner that hides lesions).
    """
    latent = (
        -1.1 + site.shift + patient.effect
        + finding.truth * (site.separation * 0.8 + 0.6 * finding.severity + positive_shift)
        + finding.noise
    )
    return float(1.0 / (1.0 + np.exp(-latent)))


def simulate(seed: int = DEFAULT_SEED, *, scale: float = 1.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate the manifest and the model scores.

    Parameters
    ----------
    seed : seed of ``numpy.random.default_rng``.
    scale : multiplies every site's number of patients (e.g. 0.25 for a quick test set).

    Returns
    -------
    (manifest, predictions) data frames; predictions hold ``case_id`` and ``score`` (NaN for
    non-diagnostic images).
    """
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    scores: list[float] = []
    for s_idx, site in enumerate(SITES):
        n_pat = max(8, int(round(site.n_patients * scale)))
        for p in range(n_pat):
            pid = f"P{s_idx + 1}{p + 1:04d}"
            patient = draw_patient(rng, site)
            for f, finding in enumerate(patient.findings):
                rows.append(
                    {
                        "case_id": f"{site.site}-{p + 1:04d}-{f + 1}",
                        "patient_id": pid,
                        "site": site.site,
                        "truth": finding.truth,
                        "sex": patient.sex,
                        "age": round(patient.age, 1),
                        "manufacturer": patient.manufacturer,
                        "consent_withdrawn": patient.consent_withdrawn,
                        "ai_opt_out": patient.ai_opt_out,
                        "non_diagnostic": finding.non_diagnostic,
                    }
                )
                scores.append(float("nan") if finding.non_diagnostic
                              else demo_score(site, patient, finding))
    manifest = pd.DataFrame(rows)
    predictions = pd.DataFrame({"case_id": manifest["case_id"], "score": scores})
    return manifest, predictions


def _csv(df: pd.DataFrame) -> str:
    out = df.copy()
    if "age" in out.columns:
        out["age"] = out["age"].map(lambda a: f"{a:.1f}")
    for col in out.columns:
        if out[col].dtype == bool:
            out[col] = out[col].map({True: "true", False: "false"})
    return out.to_csv(index=False, lineterminator="\n", float_format="%.6f")


def generate_demo_data(
    out_dir: str | os.PathLike[str], *, seed: int = DEFAULT_SEED, scale: float = 1.0
) -> DemoFiles:
    """Write ``manifest.csv`` and ``predictions.csv`` of the demo into ``out_dir``.

    Returns the paths and the sha256 of the predictions file (which the demo protocol locks).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest, predictions = simulate(seed, scale=scale)
    m_path = write_text_atomic(out / "manifest.csv", _csv(manifest))
    p_path = write_text_atomic(out / "predictions.csv", _csv(predictions))
    return DemoFiles(
        manifest=m_path,
        predictions=p_path,
        predictions_sha256=sha256_file(p_path),
        training_sites=TRAINING_SITES,
        n_cases=len(manifest),
    )


def find_demo_template() -> Path:
    """The demo protocol template ``protocols/demo.yaml`` (or the copy in the package assets)."""
    from validation._resources import resource

    path = resource("protocols/demo.yaml")
    if path.is_file():
        return path
    from validation.errors import InputError

    raise InputError(
        f"the demo protocol template must exist at {str(path)!r} (protocols/demo.yaml in a "
        "checkout, or validation/assets/protocols/demo.yaml in an installed wheel)."
    )


def prepare_demo(
    out_dir: str | os.PathLike[str], *, seed: int | None = None, images: bool = False
) -> Path:
    """Simulate the demo data, write the demo protocol beside it and lock it.

    Layout under ``out_dir``: ``inputs/manifest.csv``, ``inputs/predictions.csv``,
    ``inputs/demo.yaml`` (the template ``protocols/demo.yaml`` with the predictions' sha256,
    paths and seed filled in) and its lock ``inputs/demo.yaml.lock.json``, signed by a demo
    approver. Returns the protocol path.

    With ``images=True`` the demo is the real chain instead: seeded multi-site images
    (:func:`validation.demo_images.prepare_image_study`) scored by the locked TorchScript demo
    model shipped with the package, its card and sha256 in the protocol.
    """
    import yaml

    from validation.protocol import lock_path_for, lock_protocol

    s = DEFAULT_SEED if seed is None else int(seed)
    inputs = Path(out_dir) / "inputs"
    files = generate_demo_data(inputs, seed=s)
    template = yaml.safe_load(find_demo_template().read_text(encoding="utf-8"))
    model = template.setdefault("model", {})
    model["kind"] = "precomputed"
    model["artifact"] = files.predictions.name
    model["sha256"] = files.predictions_sha256
    model["training_sites"] = list(files.training_sites)
    model.pop("card", None)
    template.setdefault("test_set", {})["manifest"] = files.manifest.name
    if images:
        from validation.demo_images import prepare_image_study

        sections = prepare_image_study(inputs, seed=s)
        template["model"] = sections["model"]
        template["test_set"].update(sections["test_set"])
        from validation.robustness_demo import demo_robustness_section

        template["robustness"] = demo_robustness_section()
    template.setdefault("analysis", {})["seed"] = s
    header = (
        "# Demo protocol, written by `validation demo` from protocols/demo.yaml with the\n"
        "# simulated data's paths, the predictions' sha256 and the seed filled in.\n"
    )
    protocol_path = inputs / "demo.yaml"
    write_text_atomic(
        protocol_path, header + yaml.safe_dump(template, sort_keys=False, allow_unicode=True)
    )
    lock = lock_path_for(protocol_path)
    if lock.exists():
        lock.unlink()
    lock_protocol(protocol_path, approver=DEMO_APPROVER, meaning=DEMO_MEANING)
    return protocol_path
