"""Perturbed inference: images read once, every condition scored, resumable, order-free."""

from __future__ import annotations

import types
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from validation.errors import LockedModelError
from validation.models import load_protocol_model
from validation.models.inference import CaseImage
from validation.models.perturb import Condition
from validation.models.robust_inference import (
    ROBUSTNESS_PREDICTIONS_FILE,
    check_conditions_allowed,
    predict_robustness,
    run_perturbed_inference,
)

CONDS = [Condition("gaussian_noise", 1, 20.0), Condition("gaussian_noise", 2, 10.0),
         Condition("gaussian_blur", 1, 1.5), Condition("rotation", 1, 10.0)]


def _setup(study):
    protocol, base, cases = study
    model, card, _ = load_protocol_model(protocol, base, sorted(set(cases["site"])))
    items = [CaseImage(str(c), base / "data" / "images" / str(i))
             for c, i in zip(cases["case_id"], cases["image"], strict=True)]
    return model, card.input, items


def test_every_case_under_every_condition_with_hashes(study, tmp_path: Path) -> None:
    model, spec, items = _setup(study)
    out = run_perturbed_inference(model, items, spec, CONDS, tmp_path / "r.parquet",
                                  plan_sha256="p", seed=3, batch_size=5)
    t = pd.read_parquet(out)
    assert len(t) == len(items) * len(CONDS)
    assert t.groupby(["family", "level"]).size().tolist() == [len(items)] * len(CONDS)
    assert t.input_sha256.str.fullmatch(r"[0-9a-f]{64}").all()
    assert t.perturbed_sha256.nunique() == len(t)  # every perturbed input is distinct
    assert t.score.between(0, 1).all()
    assert not (tmp_path / "r.parquet.partial").exists()


def test_batching_does_not_change_the_perturbed_inputs(study, tmp_path: Path) -> None:
    """The same case gets the same perturbed input whatever the batch it lands in (scores may
    differ in the last bits between batch sizes, the inputs may not)."""
    model, spec, items = _setup(study)
    a = pd.read_parquet(run_perturbed_inference(model, items, spec, CONDS[:2], tmp_path / "a",
                                                plan_sha256="p", seed=3, batch_size=4))
    b = pd.read_parquet(run_perturbed_inference(model, items[::-1], spec, CONDS[:2],
                                                tmp_path / "b", plan_sha256="p", seed=3,
                                                batch_size=7))
    key = ["case_id", "family", "level"]
    m = a.merge(b, on=key, suffixes=("_a", "_b"))
    assert len(m) == len(a)
    assert (m.perturbed_sha256_a == m.perturbed_sha256_b).all()
    assert (m.score_a - m.score_b).abs().max() < 1e-6


def test_a_killed_run_resumes_to_the_same_bytes(study, tmp_path: Path, monkeypatch) -> None:
    model, spec, items = _setup(study)
    full = run_perturbed_inference(model, items, spec, CONDS, tmp_path / "full.parquet",
                                   plan_sha256="p", seed=3, batch_size=5).read_bytes()
    import validation.models.robust_inference as ri

    calls = {"n": 0}
    real = ri._score_batch

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    out = tmp_path / "resumed.parquet"
    monkeypatch.setattr(ri, "_score_batch", dying)
    with pytest.raises(KeyboardInterrupt):
        run_perturbed_inference(model, items, spec, CONDS, out, plan_sha256="p", seed=3,
                                batch_size=5)
    assert not out.exists() and len(list((tmp_path / "resumed.parquet.partial").glob("batch-*"))) == 2
    monkeypatch.setattr(ri, "_score_batch", real)
    seen = {"n": 0}

    def counting(*args, **kwargs):
        seen["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(ri, "_score_batch", counting)
    run_perturbed_inference(model, items, spec, CONDS, out, plan_sha256="p", seed=3, batch_size=5)
    assert seen["n"] == len(range(0, len(items), 5)) - 2
    assert out.read_bytes() == full


def test_a_changed_plan_does_not_reuse_checkpoints(study, tmp_path: Path, monkeypatch) -> None:
    model, spec, items = _setup(study)
    import validation.models.robust_inference as ri

    real = ri._score_batch
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(ri, "_score_batch", dying)
    with pytest.raises(KeyboardInterrupt):
        run_perturbed_inference(model, items, spec, CONDS, tmp_path / "o", plan_sha256="p1",
                                seed=3, batch_size=5)
    seen = {"n": 0}

    def counting(*args, **kwargs):
        seen["n"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(ri, "_score_batch", counting)
    run_perturbed_inference(model, items, spec, CONDS, tmp_path / "o", plan_sha256="p2", seed=3,
                            batch_size=5)
    assert seen["n"] == len(range(0, len(items), 5))


def test_jpeg_is_refused_for_a_card_that_does_not_declare_8_bit(demo_card) -> None:
    with pytest.raises(LockedModelError, match="jpeg needs an 8-bit input"):
        check_conditions_allowed([Condition("jpeg", 1, 50.0)], demo_card.input)
    spec = demo_card.input.model_copy(update={"bit_depth": 8})
    check_conditions_allowed([Condition("jpeg", 1, 50.0)], spec)
    with pytest.raises(LockedModelError, match="bias_field needs a magnetic-resonance input"):
        check_conditions_allowed([Condition("bias_field", 1, 0.5)], spec)


def test_predict_robustness_writes_identifier_free_examples(study, tmp_path: Path) -> None:
    protocol, base, cases = study
    ns = types.SimpleNamespace
    fams = [ns(family="gaussian_noise", severities=[20.0, 10.0]),
            ns(family="contrast", severities=[0.5])]
    protocol = ns(**vars(protocol), robustness=ns(families=fams, examples=2))
    run_dir = tmp_path / "run"
    out = predict_robustness(protocol, base, cases, run_dir, seed=5, batch_size=8)
    assert (run_dir / ROBUSTNESS_PREDICTIONS_FILE).is_file()
    assert len(out["predictions"]) == 3 * len(cases)
    assert out["plan"]["seed"] == 5 and len(out["plan"]["sha256"]) == 64
    tiles = sorted(p.name for p in (run_dir / "robustness").iterdir())
    assert len(tiles) == 2 * 4 and len(out["examples"]) == 8
    ids = set(cases["case_id"]) | set(cases["patient_id"])
    assert not any(i in name for name in tiles for i in ids)
    assert {e["level"] for e in out["examples"]} == {0, 1, 2}
    meta = pq.read_metadata(run_dir / ROBUSTNESS_PREDICTIONS_FILE)
    assert meta.num_rows == 3 * len(cases)


def test_dask_batches_give_the_bytes_of_the_local_run(study, tmp_path: Path) -> None:
    # worker processes receive the locked bytes and re-check their hash before loading
    pytest.importorskip("distributed")
    model, spec, items = _setup(study)
    local = run_perturbed_inference(model, items, spec, CONDS, tmp_path / "local.parquet",
                                    plan_sha256="p", seed=3, batch_size=5).read_bytes()
    on_dask = run_perturbed_inference(model, items, spec, CONDS, tmp_path / "dask.parquet",
                                      plan_sha256="p", seed=3, batch_size=5, scheduler="local",
                                      n_workers=1)
    assert on_dask.read_bytes() == local
    assert not (tmp_path / "dask.parquet.partial").exists()


def test_a_dask_worker_refuses_bytes_that_are_not_the_locked_model(study, monkeypatch) -> None:
    import validation.models.dask_runner as dr
    from validation.models.robust_inference import score_batch_task

    # a fresh worker: nothing verified and cached yet (an in-process cluster of another test
    # may have cached the locked model under its hash in this process)
    monkeypatch.setattr(dr, "_MODEL_CACHE", {})
    model, spec, items = _setup(study)
    with pytest.raises(LockedModelError):
        score_batch_task(0, b"not the model", model.kind, model.sha256,
                         [(items[0].case_id, str(items[0].path))], spec.model_dump(mode="json"),
                         [("gaussian_noise", 1, 20.0)], 3)
