"""The demo's planned modifications (``validation demo``, folder ``change/`` of its output).

A tabular copy of the demo study (same seed) is the sequestered test set; a change-control
plan is written beside its locked protocol, locked, and signed by a demo manufacturer approver
(an Ed25519 key registered in the demo's own registry ``change/registry.sqlite``). Two
modifications are then decided:

- ``1.1.0``, a retraining: scores simulated from the pivotal scores with a slightly better
  separation (seeded), at the same operating point: every criterion passes, it is accepted and
  becomes the previous version;
- ``1.2.0``, a threshold change of ``1.1.0`` to operating point 0.70: specificity rises but
  sensitivity falls below the original by more than the margin; it is rejected.

Finally an operator who is not authorised tries to open the test set and is refused (an audit
entry). One line states the surveillance consequence of the rejection
(:func:`surveillance_note`): a batch scored by a rejected version's sha256 is refused by
surveillance ingest with a ``rejected-version`` alarm. It is not exercised here: the demo's
surveillance plan monitors the pivotal model in a registry of its own, which holds no
change-control decision. The versions' scores are synthetic and derived deterministically; they show the
mechanics, not a real retraining.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from validation._atomic import write_text_atomic
from validation.errors import InputError

DEMO_PASSPHRASE = "demo passphrase, not a secret"
"""The demo keys' passphrase (the demo is synthetic; never use a known passphrase)."""
APPROVER = ("Demo Approver", "demo.approver@example.org")


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeDemo:
    folder: Path
    outcomes: tuple[Any, ...]
    refused: str
    lineage: tuple[dict[str, Any], ...]
    surveillance: str


def _version_scores(inputs: Path, seed: int, *, lift: float) -> str:
    """Scores of a retrained version: the pivotal latent score, positives lifted by ``lift``
    and negatives lowered by ``lift / 2``, plus seeded noise (CSV text, fixed format)."""
    preds = pd.read_csv(inputs / "predictions.csv")
    truth = pd.read_csv(inputs / "manifest.csv").set_index("case_id")["truth"]
    t = truth.reindex(preds["case_id"]).to_numpy(dtype=float)
    s = preds["score"].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    with np.errstate(divide="ignore", invalid="ignore"):
        latent = np.log(s / (1.0 - s))
    latent = latent + np.where(t == 1, lift, -lift / 2) + rng.normal(0.0, 0.35, s.size)
    out = pd.DataFrame({"case_id": preds["case_id"], "score": 1.0 / (1.0 + np.exp(-latent))})
    return out.to_csv(index=False, lineterminator="\n", float_format="%.6f")


def _plan(protocol_sha: str) -> dict[str, Any]:
    def crit(endpoint: str, versus: str, margin: float) -> dict[str, Any]:
        return {"id": f"{endpoint}_vs_{versus}", "endpoint": endpoint, "versus": versus,
                "margin": margin}

    paired = [crit("sensitivity", "original", 0.05), crit("specificity", "original", 0.05),
              crit("sensitivity", "previous", 0.05), crit("specificity", "previous", 0.05)]
    consistency = {"by": "site", "margin": 0.10, "min_cases": 20}
    return {
        "schema_version": "1.0",
        "plan": {"id": "PCCP-DEMO", "title": "Demo change-control plan", "version": "1.0",
                 "owner": "Demo sponsor"},
        "protocol": "demo.yaml", "protocol_sha256": protocol_sha, "alpha": 0.025,
        "multiplicity": "coprimary",
        "test_set_access": {"budget": 3, "authorised": [APPROVER[1]]},
        "modifications": [
            {"type": "retraining", "description": "Retraining on additional data.",
             "criteria": [*paired, crit("auc", "original", 0.02)], "consistency": consistency},
            {"type": "threshold_change", "description": "A new operating point.",
             "criteria": paired, "consistency": consistency},
        ],
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeStudy:
    """A locked, signed demo plan beside a locked tabular demo protocol."""

    folder: Path
    protocol: Path
    plan: Path
    key: dict[str, Any]
    versions: Path


def prepare_change_study(folder: Path, registry: Any, *, seed: int,
                         budget: int = 3) -> ChangeStudy:
    """The tabular demo study in ``folder``, a demo approver's key registered in ``registry``,
    the demo plan written beside the protocol, locked and signed."""
    from validation.change.plan import lock_change_plan
    from validation.demo_data import prepare_demo
    from validation.protocol.lock import lock_path_for, read_lock
    from validation.provenance.signatures import register_key, sign_file

    protocol = prepare_demo(folder, seed=seed, images=False)
    key = register_key(registry, name=APPROVER[0], email=APPROVER[1], party="manufacturer",
                       role="approver", passphrase=DEMO_PASSPHRASE, folder=folder / "keys",
                       operator="demo")
    plan = protocol.parent / "change_plan.yaml"
    data = _plan(read_lock(lock_path_for(protocol)).protocol_sha256)
    data["test_set_access"]["budget"] = budget
    write_text_atomic(plan, yaml.safe_dump(data, sort_keys=False))
    lock_change_plan(plan, approver=f"{APPROVER[0]} <{APPROVER[1]}>",
                     meaning="approved change-control plan (demo)")
    sign_file(registry, lock_path_for(plan), key=key["key_id"], meaning="approved",
              passphrase=DEMO_PASSPHRASE, key_file=key["key_file"])
    return ChangeStudy(folder=folder, protocol=protocol, plan=plan, key=key,
                       versions=protocol.parent / "versions")


DEMO_CARDS: dict[str, dict[str, Any]] = {
    "1.1.0": {"version": "1.1.0", "modification": "retraining", "parent": "1.0.0",
              "operating_point": 0.5, "training_sites": ["T1", "T2", "T3"],
              "description": "Retrained with site T3's data (simulated)."},
    "1.2.0": {"version": "1.2.0", "modification": "threshold_change", "parent": "1.1.0",
              "operating_point": 0.7, "training_sites": ["T1", "T2", "T3"],
              "description": "Operating point raised to 0.70 to cut false positives."},
}


def write_version(study: ChangeStudy, card: dict[str, Any], *, seed: int, lift: float,
                  scores: str | None = None) -> tuple[Path, Path]:
    """Write a version's card and (unless ``scores`` names an existing version's file) its
    simulated scores; return (artifact, card)."""
    label = card["version"]
    artifact = study.versions / (scores or f"v{label}.csv")
    if scores is None:
        write_text_atomic(artifact, _version_scores(study.protocol.parent, seed, lift=lift))
    card_path = write_text_atomic(study.versions / f"v{label}.card.yaml",
                                  yaml.safe_dump(card, sort_keys=False))
    return artifact, card_path


def run_change_demo(out: str | Path, *, seed: int,
                    progress: Callable[[str], None] | None = None) -> ChangeDemo:
    """Write and decide the demo's two modifications under ``out/change`` (see the module)."""
    from validation.change.lineage import lineage
    from validation.change.run import run_change
    from validation.provenance.registry import open_registry

    say = progress or (lambda _text: None)
    folder = Path(out) / "change"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    reg = open_registry(f"sqlite:///{(folder / 'registry.sqlite').absolute().as_posix()}")
    try:
        study = prepare_change_study(folder, reg, seed=seed)
        key = study.key
        outcomes = []
        for label, card in DEMO_CARDS.items():
            artifact, card_path = write_version(study, card, seed=seed, lift=0.45,
                                                scores=None if label == "1.1.0"
                                                else "v1.1.0.csv")
            res = run_change(study.plan, model=artifact, card=card_path, signer=key["key_id"],
                             passphrase=DEMO_PASSPHRASE, key_file=key["key_file"],
                             out_dir=folder / "runs", registry=reg)
            say(f"change {label} ({card['modification']}): {res.decision.upper()}; "
                f"{'; '.join(res.reasons)}")
            outcomes.append(res)
        artifact, card_path = write_version(
            study, DEMO_CARDS["1.1.0"] | {"version": "1.3.0", "parent": "1.1.0"},
            seed=seed + 1, lift=0.5)
        try:
            run_change(study.plan, model=artifact, card=card_path, signer=key["key_id"],
                       passphrase=DEMO_PASSPHRASE, key_file=key["key_file"],
                       out_dir=folder / "runs", registry=reg,
                       operator="Unlisted Analyst <analyst@example.org>")
            refused = "not refused"
        except InputError as exc:
            refused = str(exc).split(". Nothing")[0]
        say(f"change 1.3.0: {refused}")
        history = tuple(lineage(reg, "PCCP-DEMO"))
    finally:
        reg.close()
    return ChangeDemo(folder=folder, outcomes=tuple(outcomes), refused=refused,
                      lineage=history, surveillance=surveillance_note(history))


def surveillance_note(history: tuple[dict[str, Any], ...]) -> str:
    """What surveillance does with the lineage's rejected versions (one line).

    Surveillance knows a model by its sha256 only; a threshold change keeps its parent's
    artifact, so the note names the other versions that share the sha256 (a batch scored by
    that artifact is refused as ``rejected-version``, its alarm listing every decision).
    """
    rejected = [v for v in history if v["decision"] == "rejected"]
    if not rejected:
        return "surveillance: no rejected version"
    parts = []
    for v in rejected:
        shared = [o["version"] for o in history
                  if o["model_sha256"] == v["model_sha256"] and o["version"] != v["version"]]
        also = f", the artifact of {', '.join(shared)}" if shared else ""
        parts.append(f"{v['version']} REJECTED (model sha256 {v['model_sha256'][:12]}{also}, "
                     f"operating point {float(v['operating_point']):.2f})")
    return ("surveillance: " + "; ".join(parts) + ": a batch scored by this sha256 is refused "
            "at ingest with a 'rejected-version' alarm naming the decisions (not run here: "
            "the demo's surveillance plan monitors the pivotal model in its own registry)")


def print_change_demo(demo: ChangeDemo) -> None:
    """One line per decided modification, the refusal, and the lineage."""
    import typer

    for res in demo.outcomes:
        typer.echo(f"change {res.version}: {res.decision.upper()} ({'; '.join(res.reasons)}); "
                   f"dossier {res.dossier}")
    typer.echo(f"change 1.3.0: {demo.refused}")
    typer.echo("lineage: " + " -> ".join(f"{v['version']} {v['decision']}"
                                         for v in demo.lineage))
    typer.echo(demo.surveillance)
