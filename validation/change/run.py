"""``validation change PLAN --model NEW_ARTIFACT --card CARD``: decide a planned modification.

Order of the steps (every refusal, exit 2, comes before the test set is read, and nothing is
recorded as accepted unless every step succeeded):

1. the plan: checked (file:line problems), its lock matches the YAML bytes, and any electronic
   signature on the lock verifies;
2. the pivotal protocol the plan names: locked, unchanged, with the hash the plan names;
3. the lineage (registry): the original is the protocol's locked model, the previous version
   the last accepted one;
4. the new artifact's sha256 (``--sha256`` must match when given) and its version card: no
   contradiction with the plan (a planned modification type) or the lineage (the parent is
   the previous version, a new version label, a threshold change keeps the artifact, no test
   site among the training sites);
5. the signer's registered key, not revoked, unlocked by the passphrase;
6. the test set's governance: the operator is authorised and the budget not spent (refusals
   audited); the access is recorded;
7. every version scored on the analysed cases through the locked pipeline's loaders, compared
   case by case (:mod:`validation.change.compare`), the dossier written, ``decision.json``
   signed (meaning ``approved``), the dossier sealed (manifest, registry, receipt);
8. the version recorded in the lineage as accepted (the new previous) or rejected.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from validation._atomic import write_bytes_atomic, write_json_atomic
from validation.constants import LOCK_FILE
from validation.errors import InputError, LockedModelError, LockError

DECISION_FILE = "decision.json"
CHANGE_FILE = "change.json"
PLAN_LOCK_FILE = "change_plan.lock.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeOutcome:
    """What :func:`run_change` decided and where the dossier is."""

    dossier: Path
    decision: str
    version: str
    reasons: tuple[str, ...]
    lineage: tuple[dict[str, Any], ...]


def _relative(path: Path, base: Path) -> str:
    try:
        return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()
    except ValueError:  # another drive
        return path.resolve().as_posix()


def _scored(protocol: Any, pdir: Path, test_set: Any, artifact: Path, sha256: str,
            work: Path, name: str) -> pd.DataFrame:
    """The analysed cases with one version's scores (the pipeline's own loaders)."""
    from validation.data.predictions import load_precomputed_predictions, match_predictions

    model = protocol.model
    if model.kind == "precomputed":
        preds = load_precomputed_predictions(artifact, sha256=sha256,
                                             score_column=model.score_column or "score")
        return match_predictions(test_set, preds, source=artifact.name)
    from validation.data.specs import load_spec, validate_table
    from validation.models import predict

    # the scores do not depend on the operating point, which the comparison applies; the
    # protocol's model card (preprocessing, input and output) holds for every version
    version = protocol.model_copy(update={"model": model.model_copy(update={
        "artifact": str(artifact.resolve()), "sha256": sha256})})
    out = Path(predict(version, pdir, test_set.analysed, work / f"{name}.parquet",
                       progress=False))
    preds = validate_table(pd.read_parquet(out), load_spec("predictions"), source=out.name)
    return match_predictions(test_set, preds, source=artifact.name)


def run_change(plan_path: str | os.PathLike[str], *, model: str | os.PathLike[str],
               card: str | os.PathLike[str], signer: str, passphrase: str,
               sha256: str | None = None, key_file: str | os.PathLike[str] | None = None,
               out_dir: str | os.PathLike[str] = "runs", registry: Any = None,
               operator: str | None = None) -> ChangeOutcome:
    """Decide one modification against the locked change-control plan (see the module)."""
    from validation.change.lineage import lineage, original_version, previous_version
    from validation.change.plan import (
        change_plan_sha256,
        load_change_plan,
        verify_change_plan_lock,
    )
    from validation.change.version_card import card_contradictions, load_version_card
    from validation.protocol import load_protocol, protocol_sha256, verify_lock
    from validation.provenance.hashing import sha256_file
    from validation.provenance.registry import open_registry
    from validation.provenance.signatures import (
        find_key,
        require_valid_signatures,
        unlock_key,
    )
    from validation.run_checks import load_test_set

    ppath = Path(plan_path)
    plan = load_change_plan(ppath)
    plan_lock = verify_change_plan_lock(ppath)
    plan_sha = change_plan_sha256(plan)
    if plan_sha != plan_lock.protocol_sha256:
        raise LockError(f"the plan {ppath} reads differently from when it was locked (sha256 "
                        f"{plan_sha}, lock {plan_lock.protocol_sha256}); re-lock it after review.")
    plan_lock_path = ppath.with_name(ppath.name + ".lock.json")
    proto_path = ppath.parent / plan.protocol
    protocol = load_protocol(proto_path)
    lock = verify_lock(proto_path)
    p_sha = protocol_sha256(protocol)
    if p_sha != plan.protocol_sha256 or lock.protocol_sha256 != p_sha:
        raise LockError(f"the plan names protocol sha256 {plan.protocol_sha256}, but "
                        f"{proto_path.name} is locked as {lock.protocol_sha256}: the plan is "
                        "for another version of the pivotal protocol.")
    pdir = proto_path.parent
    artifact = Path(model)
    if not artifact.is_file():
        raise InputError(f"'--model' must be an existing artifact file; got {str(artifact)!r}.")
    new_sha = sha256_file(artifact)
    if sha256 is not None and sha256.lower() != new_sha:
        raise LockedModelError(f"{artifact.name} has sha256 {new_sha}, not the {sha256} given "
                               "with --sha256: the artifact is not the one declared.")
    vcard = load_version_card(card)
    reg = open_registry(registry)
    try:
        require_valid_signatures(reg, plan_lock_path)
        require_valid_signatures(reg, proto_path.with_name(proto_path.name + ".lock.json"))
        versions = lineage(reg, plan.id)
        original = next((v for v in versions if v["decision"] == "original"),
                        original_version(protocol, _relative(pdir / protocol.model.artifact,
                                                             ppath.parent)))
        previous = previous_version(versions, original)
        test_set = load_test_set(protocol, pdir)  # the manifest's checks; no case analysed yet
        problems = card_contradictions(vcard, plan=plan, lineage=[original, *versions],
                                       previous=previous, model_sha256=new_sha,
                                       test_sites=set(map(str, test_set.sites)))
        if problems:
            raise InputError(f"the version card {Path(card).name} contradicts the plan "
                             f"{plan.id!r}: " + "; ".join(problems) + ". Nothing was recorded.")
        modification = plan.modification(vcard.modification)
        key = find_key(reg, signer, meaning="approved")
        if key["status"] == "revoked" or key["role"] != "approver":
            raise InputError(f"the key {key['key_id'][:16]} of {key['email']} cannot sign a "
                             "change decision: " + (f"it was revoked {key['revoked_utc']}"
                                                    if key["status"] == "revoked" else
                                                    f"it is a {key['role']} key, not an "
                                                    "approver's") + ". Nothing was recorded.")
        private = unlock_key(key, passphrase, key_file)
        del private  # unlocked now (a wrong passphrase stops here); signed with again below
        who = operator or f"{key['name']} <{key['email']}>"
        return _decide(reg, _Checked(plan=plan, plan_sha=plan_sha, plan_lock_path=plan_lock_path,
                       protocol=protocol, p_sha=p_sha, proto_path=proto_path, pdir=pdir,
                       test_set=test_set, original=original, previous=previous,
                       versions=versions, vcard=vcard, modification=modification,
                       artifact=artifact, new_sha=new_sha, card=Path(card), key=key,
                       passphrase=passphrase, key_file=key_file, who=who,
                       original_by=_approvers(lock),
                       out_dir=Path(out_dir), ppath=ppath))
    finally:
        if reg is not registry:
            reg.close()


@dataclass(frozen=True, slots=True, kw_only=True)
class _Checked:
    """What :func:`run_change` checked before the test set is opened."""

    plan: Any
    plan_sha: str
    plan_lock_path: Path
    ppath: Path
    protocol: Any
    p_sha: str
    proto_path: Path
    pdir: Path
    test_set: Any
    original: dict[str, Any]
    previous: dict[str, Any]
    versions: list[dict[str, Any]]
    vcard: Any
    modification: Any
    artifact: Path
    new_sha: str
    card: Path
    key: dict[str, Any]
    passphrase: str
    key_file: Any
    who: str
    original_by: str
    out_dir: Path


def _decide(reg: Any, k: _Checked) -> ChangeOutcome:
    """Steps 6 to 8 (the module's docstring)."""
    from validation.change.compare import compare_versions
    from validation.change.lineage import lineage, record_version
    from validation.pipeline import make_run_id
    from validation.provenance.access_log import (
        hash_of_test_set,
        record_test_set_access,
    )
    from validation.provenance.finalize import finalize
    from validation.provenance.governance import (
        authorise_access,
        declare_governance,
        refusals,
    )
    from validation.provenance.inputs import describe_inputs, record_inputs
    from validation.provenance.signatures import copy_signatures, sign_file

    plan, protocol, vcard = k.plan, k.protocol, k.vcard
    study_dir = k.out_dir / plan.id
    study_dir.mkdir(parents=True, exist_ok=True)
    run_id = make_run_id([k.plan_sha, k.new_sha, vcard.version])
    inputs: dict[str, Path] = {"protocol": k.proto_path, "plan": k.ppath,
                               "manifest": k.pdir / protocol.test_set.manifest,
                               "model": k.artifact, "version_card": k.card}
    if protocol.test_set.images_root:
        inputs["images"] = k.pdir / protocol.test_set.images_root
    ts_sha = hash_of_test_set(describe_inputs(inputs))
    access = plan.test_set_access
    declare_governance(reg, test_set_sha256=ts_sha, test_set_id=protocol.study.id,
                       budget=access.budget, authorised=list(access.authorised),
                       source=f"change-control plan {plan.id} sha256 {k.plan_sha}",
                       actor=k.who)
    budget = authorise_access(reg, test_set_sha256=ts_sha, test_set_id=protocol.study.id,
                              operator=k.who, budget=access.budget,
                              authorised=list(access.authorised),
                              purpose=f"change {plan.id} {vcard.version}", subject=run_id)
    run_dir = study_dir / f"{run_id}.incomplete"
    run_dir.mkdir()
    try:
        record_inputs(run_dir, inputs)
        usage = record_test_set_access(reg, run_dir=run_dir, model_sha256=k.new_sha,
                                       study_id=protocol.study.id, operator=k.who,
                                       protocol_sha256=k.p_sha, test_set_sha256=ts_sha,
                                       run_id=run_id,
                                       purpose=f"change {plan.id} {vcard.version}")
        # -- the test set is read from here on
        base = k.ppath.parent
        work = run_dir / ".work"
        work.mkdir()
        orig, prev = k.original, k.previous
        sources = {"original": (base / orig["artifact"], orig["model_sha256"],
                                float(orig["operating_point"])),
                   "previous": (base / prev["artifact"], prev["model_sha256"],
                                float(prev["operating_point"])),
                   "new": (k.artifact, k.new_sha, float(vcard.operating_point))}
        scored: dict[str, pd.DataFrame] = {}  # one scoring per artifact
        for name, (path, sha, _op) in sources.items():
            if sha not in scored:
                scored[sha] = _scored(protocol, k.pdir, k.test_set, path, sha, work, name)
        versions_cases = {name: (scored[sha], op) for name, (_p, sha, op) in sources.items()}
        shutil.rmtree(work)
        comparison = compare_versions(protocol, plan, k.modification, versions_cases)
        entry = {"version": vcard.version, "model_sha256": k.new_sha,
                 "operating_point": repr(float(vcard.operating_point)),
                 "artifact": _relative(k.artifact, base), "parent_version": prev["version"],
                 "modification": vcard.modification, "decision": comparison["decision"],
                 "criteria": [{"id": c["id"], "decision": c["decision"]}
                              for c in comparison["criteria"]],
                 "dossier_run_id": run_id}
        decision = {"plan": {"id": plan.id, "sha256": k.plan_sha},
                    "protocol_sha256": k.p_sha, "version": entry,
                    "decision": comparison["decision"], "reasons": comparison["reasons"],
                    "decided_by": k.who}
        doc = write_json_atomic(run_dir / DECISION_FILE, decision)
        sig = sign_file(reg, doc, key=k.key["key_id"], meaning="approved",
                        passphrase=k.passphrase, key_file=k.key_file)
        entry["signature"] = sig["signature"]
        recorded = any(v["decision"] == "original" for v in k.versions)
        lineage_view = [*([] if recorded else [orig | {"decided_by": k.original_by}]),
                        *k.versions,
                        entry | {"decided_by": k.who, "decided_utc": sig["signed_utc"]}]
        change = {"schema_version": "1.0", "plan": decision["plan"],
                  "protocol": {"study_id": protocol.study.id, "sha256": k.p_sha},
                  "modification": {"type": vcard.modification,
                                   "description": vcard.description},
                  "versions": {"original": _public(orig), "previous": _public(prev),
                               "new": _public(entry)},
                  "comparison": comparison, "lineage": [_public(v) for v in lineage_view],
                  "test_set_access": {"budget": budget, "usage": usage,
                                      "refusals": refusals(reg, ts_sha)}}
        write_json_atomic(run_dir / CHANGE_FILE, change)
        from validation.report.change import render_change_report

        render_change_report(run_dir, change)
        proto_lock = k.proto_path.with_name(k.proto_path.name + ".lock.json")
        for source, copy in ((proto_lock, run_dir / LOCK_FILE),
                             (k.plan_lock_path, run_dir / PLAN_LOCK_FILE)):
            write_bytes_atomic(copy, source.read_bytes())
            copy_signatures(source, copy)
        from validation.provenance.environment import write_environment

        write_environment(run_dir)
        final = finalize(run_dir, reg, operator=k.who)
    except BaseException as exc:
        from validation.pipeline import _mark_failed

        _mark_failed(run_dir, exc)
        raise
    if not any(v["decision"] == "original" for v in k.versions):
        record_version(reg, plan_id=plan.id, plan_sha256=k.plan_sha, entry=orig,
                       decided_by=k.original_by)
    record_version(reg, plan_id=plan.id, plan_sha256=k.plan_sha, entry=entry, decided_by=k.who)
    return ChangeOutcome(dossier=final, decision=comparison["decision"], version=vcard.version,
                         reasons=tuple(comparison["reasons"]),
                         lineage=tuple(lineage(reg, plan.id)))


def _approvers(lock: Any) -> str:
    """Who approved the pivotal protocol (the original version's acceptance)."""
    people = [a for a in lock.approvals if a.role == "approved"] or list(lock.approvals)
    return "; ".join(f"{a.name} <{a.email}> ({a.meaning}, typed)" for a in people)


def _public(v: dict[str, Any]) -> dict[str, Any]:
    keys = ("version", "model_sha256", "operating_point", "parent_version", "modification",
            "decision", "criteria", "dossier_run_id", "decided_by", "decided_utc", "signature")
    return {key: v.get(key) for key in keys}


def declare_plan_governance(plan_path: str | os.PathLike[str], *, registry: Any = None,
                            actor: str) -> dict[str, Any]:
    """Record the plan's test-set governance in the registry (``test_set.governed``)."""
    from validation.change.plan import change_plan_sha256, load_change_plan
    from validation.protocol import load_protocol
    from validation.provenance.access_log import hash_of_test_set
    from validation.provenance.governance import declare_governance
    from validation.provenance.inputs import describe_inputs
    from validation.provenance.registry import open_registry

    ppath = Path(plan_path)
    plan = load_change_plan(ppath)
    proto_path = ppath.parent / plan.protocol
    protocol = load_protocol(proto_path)
    roles: dict[str, Path] = {"manifest": proto_path.parent / protocol.test_set.manifest}
    if protocol.test_set.images_root:
        roles["images"] = proto_path.parent / protocol.test_set.images_root
    reg = open_registry(registry)
    try:
        return declare_governance(
            reg, test_set_sha256=hash_of_test_set(describe_inputs(roles)),
            test_set_id=str(protocol.study.id), budget=plan.test_set_access.budget,
            authorised=list(plan.test_set_access.authorised),
            source=f"change-control plan {plan.id} sha256 {change_plan_sha256(plan)}",
            actor=actor)
    finally:
        if reg is not registry:
            reg.close()
