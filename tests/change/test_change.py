"""``validation change``: decisions, lineage, dossier, and every refusal (exit 2, nothing
recorded as accepted), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from validation.change.demo import DEMO_CARDS, DEMO_PASSPHRASE, surveillance_note, write_version
from validation.change.lineage import lineage
from validation.change.run import CHANGE_FILE, DECISION_FILE, run_change
from validation.errors import InputError, LockedModelError, LockError, ProvenanceError
from validation.provenance.audit import check_chain
from validation.provenance.signatures import revoke_key, signatures_path
from validation.provenance.verify import verify_run

SEED = 20261128


def _run(study, registry, artifact, card, **kw):  # type: ignore[no-untyped-def]
    args = {"signer": study.key["key_id"], "passphrase": DEMO_PASSPHRASE,
            "key_file": study.key["key_file"], "out_dir": study.folder / "runs",
            "registry": registry} | kw
    return run_change(study.plan, model=artifact, card=card, **args)


def _v110(study):  # type: ignore[no-untyped-def]
    return write_version(study, DEMO_CARDS["1.1.0"], seed=SEED, lift=0.45)


def test_accept_then_reject_with_lineage(study, registry) -> None:  # type: ignore[no-untyped-def]
    a, c = _v110(study)
    first = _run(study, registry, a, c)
    assert first.decision == "accepted"
    a2, c2 = write_version(study, DEMO_CARDS["1.2.0"], seed=SEED, lift=0.45, scores=a.name)
    second = _run(study, registry, a2, c2)
    assert second.decision == "rejected"
    assert any("sensitivity_vs_original failed" in r for r in second.reasons)
    rows = lineage(registry, "PCCP-DEMO")
    assert [(v["version"], v["decision"], v["parent_version"]) for v in rows] == [
        ("1.0.0", "original", None), ("1.1.0", "accepted", "1.0.0"),
        ("1.2.0", "rejected", "1.1.0")]
    assert rows[1]["model_sha256"] == rows[2]["model_sha256"]  # a threshold change
    assert surveillance_note(tuple(rows)) == (
        f"surveillance: 1.2.0 REJECTED (model sha256 {rows[2]['model_sha256'][:12]}, the "
        "artifact of 1.1.0, operating point 0.70): a batch scored by this sha256 is refused at "
        "ingest with a 'rejected-version' alarm naming the decisions (not run here: the demo's "
        "surveillance plan monitors the pivotal model in its own registry)")
    assert surveillance_note(tuple(rows[:2])) == "surveillance: no rejected version"
    assert rows[1]["signature"] and rows[1]["decided_by"].endswith("<demo.approver@example.org>")
    # the dossier verifies, with its signed decision; the chain is intact
    for res in (first, second):
        rep = verify_run(res.dossier, registry)
        assert rep.ok, rep.lines()
        assert any("decision.json: approved by Demo Approver" in s for s in rep.signatures)
        assert any("typed approval, unsigned" in s for s in rep.signatures)
        assert any(s.startswith("change_plan.lock.json: approved by Demo Approver")
                   for s in rep.signatures)
    change = json.loads((second.dossier / CHANGE_FILE).read_text())
    assert [v["version"] for v in change["lineage"]] == ["1.0.0", "1.1.0", "1.2.0"]
    assert change["versions"]["previous"]["version"] == "1.1.0"
    assert change["test_set_access"]["usage"]["n_accesses"] == 2
    md = (second.dossier / "report" / "change.md").read_text()
    assert md.count("\n| 1.1.0 | `") == 1 and "Decision: **REJECTED**" in md
    assert check_chain(registry).ok
    # a copied decision signature fails verify
    (first.dossier / DECISION_FILE).chmod(0o644)
    signatures_path(second.dossier / DECISION_FILE).write_bytes(
        signatures_path(first.dossier / DECISION_FILE).read_bytes())
    rep = verify_run(second.dossier, registry)
    assert not rep.ok and any("copied" in p for p in rep.signature_problems)


def test_criteria_reuse_the_suite_statistics(study, registry) -> None:  # type: ignore[no-untyped-def]
    """The sensitivity criterion is the clustered paired test on brute-force paired outcomes."""
    import pandas as pd

    from validation.stats.hypotheses import clustered_paired_proportion_test

    a, c = _v110(study)
    res = _run(study, registry, a, c)
    crit = json.loads((res.dossier / CHANGE_FILE).read_text())["comparison"]["criteria"]
    sens = next(x for x in crit if x["id"] == "sensitivity_vs_original")
    inputs = study.protocol.parent
    m = pd.read_csv(inputs / "manifest.csv")
    m = m[~m["consent_withdrawn"] & ~m["ai_opt_out"]]
    old = pd.read_csv(inputs / "predictions.csv").set_index("case_id")["score"]
    new = pd.read_csv(a).set_index("case_id")["score"]
    pos = m[m["truth"] == 1]
    nd = pos["non_diagnostic"].to_numpy(bool)
    # worst case: an indeterminate positive finding is a miss for both versions
    s_new = ~nd & (new.reindex(pos["case_id"]).to_numpy() >= 0.5)
    s_old = ~nd & (old.reindex(pos["case_id"]).to_numpy() >= 0.5)
    assert sens["n"] == len(pos)
    assert sens["paired_counts"] == {"a": int(np.sum(s_new & s_old)),
                                     "b": int(np.sum(s_new & ~s_old)),
                                     "c": int(np.sum(~s_new & s_old)),
                                     "d": int(np.sum(~s_new & ~s_old))}
    direct = clustered_paired_proportion_test(s_new, s_old, pos["patient_id"].astype(str).to_numpy(),
                                              type="noninferiority", alpha=0.025, margin=0.05)
    assert sens["test"]["p_value"] == pytest.approx(direct.p_value, rel=1e-12)
    assert sens["test"]["estimate"] == pytest.approx(direct.estimate, rel=1e-12)


def _refused_nothing_accepted(registry) -> None:  # type: ignore[no-untyped-def]
    assert [v for v in lineage(registry, "PCCP-DEMO") if v["decision"] == "accepted"] == []


def test_refusals(study, registry) -> None:  # type: ignore[no-untyped-def]
    a, c = _v110(study)
    versions = study.versions
    cases = 0

    def card(**kw):  # type: ignore[no-untyped-def]
        import yaml

        p = versions / f"bad{len(list(versions.glob('bad*')))}.card.yaml"
        p.write_text(yaml.safe_dump(DEMO_CARDS["1.1.0"] | kw))
        return p

    refusals = [
        (card(modification="new_input_source"), {}, InputError, "not a type this plan allows"),
        (card(modification="retrainng"), {}, InputError, "Did you mean 'retraining'"),
        (card(parent="0.9.0"), {}, InputError, "current previous accepted version is '1.0.0'"),
        (card(training_sites=["SITE-A"]), {}, InputError, "include test-set sites"),
        (card(modification="threshold_change"), {}, InputError, "keeps the model"),
        (card(version="1.0.0"), {}, InputError, "already in the lineage"),
        (c, {"passphrase": "not the passphrase"}, InputError, "wrong passphrase"),
        (c, {"sha256": "0" * 64}, LockedModelError, "not the one declared"),
        (c, {"operator": "Someone Else <else@example.org>"}, InputError,
         "not authorised"),
    ]
    for card_path, kw, exc, text in refusals:
        with pytest.raises(exc, match=text):
            _run(study, registry, a, card_path, **kw)
        cases += 1
    _refused_nothing_accepted(registry)
    refused = [e for e in registry.entries() if e.action == "test_set.refused"]
    assert len(refused) == 1 and refused[0].payload["reason"].startswith("'Someone Else")
    # a forged signature on the plan's lock
    side = signatures_path(study.plan.with_name(study.plan.name + ".lock.json"))
    good = side.read_bytes()
    data = json.loads(good)
    data["signatures"][0]["signed_utc"] = "2020-01-01T00:00:00.000000Z"
    side.write_text(json.dumps(data))
    with pytest.raises(ProvenanceError, match="forged or edited"):
        _run(study, registry, a, c)
    side.write_bytes(good)
    cases += 1
    # the plan changed after locking
    text = study.plan.read_text()
    study.plan.write_text(text + "# edited\n")
    with pytest.raises(LockError, match="changed after it was locked"):
        _run(study, registry, a, c)
    study.plan.write_text(text)
    cases += 1
    # a revoked key
    revoke_key(registry, key=study.key["key_id"], reason="test", operator="QA")
    with pytest.raises(InputError, match="revoked"):
        _run(study, registry, a, c)
    cases += 1
    _refused_nothing_accepted(registry)
    runs = study.folder / "runs"
    assert not runs.exists() or not any(runs.glob("*/*"))
    assert cases == 12
    assert check_chain(registry).ok


def test_budget_is_enforced(tmp_path: Path, registry) -> None:  # type: ignore[no-untyped-def]
    from validation.change.demo import prepare_change_study

    study = prepare_change_study(tmp_path / "b", registry, seed=SEED, budget=1)
    a, c = _v110(study)
    assert _run(study, registry, a, c).decision == "accepted"
    a3, c3 = write_version(study, DEMO_CARDS["1.1.0"] | {"version": "1.3.0", "parent": "1.1.0"},
                           seed=SEED + 1, lift=0.5)
    with pytest.raises(InputError, match="used its access budget: 1 recorded accesses of 1"):
        _run(study, registry, a3, c3)
    assert [v["version"] for v in lineage(registry, "PCCP-DEMO")] == ["1.0.0", "1.1.0"]
    refused = [e for e in registry.entries() if e.action == "test_set.refused"]
    assert len(refused) == 1 and refused[0].payload["used_before"] == 1


def test_cli_change(study, registry, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                    capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from validation.cli import main
    from validation.provenance.signatures import PASSPHRASE_ENV

    def cli(*args: object) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["validation", *map(str, args)])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return code, out.out, out.err

    a, c = _v110(study)
    base = ("change", study.plan, "--model", a, "--card", c, "--signer", study.key["key_id"],
            "--key-file", study.key["key_file"], "--out", study.folder / "runs")
    monkeypatch.setenv(PASSPHRASE_ENV, "a wrong passphrase")
    code, out, err = cli(*base)
    assert code == 2 and "wrong passphrase" in err and "Traceback" not in err
    monkeypatch.setenv(PASSPHRASE_ENV, DEMO_PASSPHRASE)
    code, out, err = cli(*base)
    assert code == 0, err
    assert "version 1.1.0: ACCEPTED" in out and DEMO_PASSPHRASE not in out + err
    code, out, _ = cli("change-plan", "lineage", "PCCP-DEMO")
    assert code == 0 and "1.1.0  accepted" in out and "1.0.0  original" in out
    code, out, err = cli("change-plan", "check", study.plan)
    assert code == 0 and "is valid" in out
    dossier = next(p for p in (study.folder / "runs" / "PCCP-DEMO").iterdir())
    code, out, err = cli("verify", dossier)
    assert code == 0 and "decision.json: approved" in out


@pytest.mark.slow
def test_threshold_change_of_an_image_model(tmp_path: Path, registry) -> None:  # type: ignore[no-untyped-def]
    """The model path: the locked TorchScript demo model scored once, a new operating point."""
    import yaml

    from validation.change.demo import APPROVER, _plan
    from validation.change.plan import lock_change_plan
    from validation.demo_data import prepare_demo
    from validation.protocol import load_protocol
    from validation.protocol.lock import lock_path_for, read_lock
    from validation.provenance.signatures import register_key

    proto = prepare_demo(tmp_path / "img", seed=SEED, images=True)
    p = load_protocol(proto)
    key = register_key(registry, name=APPROVER[0], email=APPROVER[1], party="manufacturer",
                       role="approver", passphrase=DEMO_PASSPHRASE, folder=tmp_path / "keys")
    plan = proto.parent / "change_plan.yaml"
    data = _plan(read_lock(lock_path_for(proto)).protocol_sha256) | {"protocol": proto.name}
    plan.write_text(yaml.safe_dump(data, sort_keys=False))
    lock_change_plan(plan, approver=f"{APPROVER[0]} <{APPROVER[1]}>", meaning="approved")
    card = tmp_path / "card.yaml"
    card.write_text(yaml.safe_dump({"version": "1.0.1", "modification": "threshold_change",
                                    "parent": str(p.device.version), "operating_point": 0.45,
                                    "training_sites": [], "description": "lower threshold"}))
    res = run_change(plan, model=proto.parent / p.model.artifact, card=card,
                     signer=key["key_id"], passphrase=DEMO_PASSPHRASE,
                     key_file=key["key_file"], out_dir=tmp_path / "runs", registry=registry)
    crit = json.loads((res.dossier / CHANGE_FILE).read_text())["comparison"]["criteria"]
    sens = next(c for c in crit if c["id"] == "sensitivity_vs_original")
    # a lower threshold never loses a positive call: no discordant miss
    assert sens["paired_counts"]["c"] == 0 and sens["test"]["estimate"] >= 0
    assert verify_run(res.dossier, registry).ok
