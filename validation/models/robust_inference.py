"""Perturbed inference of a robustness analysis: each image read once, every severity in memory.

The cases are cut into the same fixed batches as plain inference
(:func:`validation.models.inference.batches_of`). For one batch every image file is read,
hashed and decoded to its [0, 1] intensity once; each perturbed run (family x severity level,
:class:`~validation.models.perturb.Condition`) then perturbs those arrays in memory
(:func:`~validation.models.perturb.perturb`, seeded per case), applies the card's
normalisation and scores them with the locked model. A batch's rows (every condition) are
checkpointed atomically in ``<out>.partial/`` whose state names the model, the cases, the
input spec, the batching and the perturbation plan's SHA-256; a killed run resumes from the
completed batches and writes a byte-identical file.

Rows of ``robustness_predictions.parquet``: ``case_id``, ``family``, ``level``, ``value``,
``score``, ``input_sha256`` (the image file's bytes) and ``perturbed_sha256`` (the float32
model input actually scored), ordered by batch, condition (protocol order), case.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from validation._atomic import write_bytes_atomic
from validation.errors import DataError, LockedModelError, ValidationError
from validation.models.artifact import LockedModel
from validation.models.card import InputSpec
from validation.models.images import decode_intensity, normalise
from validation.models.inference import (
    CaseImage,
    Checkpoint,
    batches_of,
    check_cases,
    check_run_options,
    deterministic_torch,
    progress_bar,
    run_state,
    table_bytes,
)
from validation.models.perturb import Condition, case_rng, perturb, perturb_batch

ROBUSTNESS_PREDICTIONS_FILE = "robustness_predictions.parquet"
ROBUST_COLUMNS = ("case_id", "family", "level", "value", "score", "input_sha256",
                  "perturbed_sha256")


def read_intensity(case: CaseImage, spec: InputSpec) -> tuple[np.ndarray | None, str | None,
                                                               str | None]:
    """Read, hash and decode one image to its [0, 1] intensity: ``(array, sha256, error)``."""
    try:
        data = case.path.read_bytes()
    except OSError as exc:
        return None, None, f"case {case.case_id!r}: image '{case.path.name}' cannot be read: {exc}"
    sha = hashlib.sha256(data).hexdigest()
    try:
        return decode_intensity(data, case.path.name, spec, case_id=case.case_id), sha, None
    except ValidationError as exc:
        return None, sha, str(exc)


def check_conditions_allowed(conditions: Sequence[Condition], spec: InputSpec) -> None:
    """Refuse a family the card's declared input does not allow (JPEG on 16-bit CT, ...)."""
    from validation.protocol.robustness import FAMILIES, REQUIREMENTS, allowed_by_input

    bad = sorted({c.family for c in conditions
                  if not allowed_by_input(FAMILIES[c.family].requires, spec.bit_depth,
                                          spec.modality)})
    if bad:
        raise LockedModelError(
            f"perturbation(s) {', '.join(bad)} are not allowed for this model's input: "
            + "; ".join(f"{b} needs {REQUIREMENTS[FAMILIES[b].requires]}" for b in bad)
            + f" (the card declares bit_depth {spec.bit_depth!r}, modality {spec.modality!r})."
        )


def _table(rows: dict[str, list[Any]]) -> Any:
    import pyarrow as pa

    return pa.table({
        "case_id": pa.array(rows["case_id"], pa.string()),
        "family": pa.array(rows["family"], pa.string()),
        "level": pa.array(rows["level"], pa.int64()),
        "value": pa.array(rows["value"], pa.float64()),
        "score": pa.array(rows["score"], pa.float64()),
        "input_sha256": pa.array(rows["input_sha256"], pa.string()),
        "perturbed_sha256": pa.array(rows["perturbed_sha256"], pa.string()),
    })


def perturbed_inputs(
    images: Sequence[np.ndarray], case_ids: Sequence[str], cond: Condition, spec: InputSpec,
    seed: int,
) -> np.ndarray:
    """The normalised float32 model inputs (N, C, H, W) of some cases under one condition."""
    rngs = [case_rng(seed, cond, cid) for cid in case_ids]
    out = perturb_batch(np.stack(images), cond, rngs)
    return np.stack([normalise(x, spec) for x in out])


def _score_batch(
    model: LockedModel, idx: list[int], cases: Sequence[CaseImage], images: list[np.ndarray],
    shas: list[str], conditions: Sequence[Condition], spec: InputSpec, seed: int,
) -> Any:
    rows: dict[str, list[Any]] = {k: [] for k in ROBUST_COLUMNS}
    ids = [cases[i].case_id for i in idx]
    # every condition of the batch in one forward pass (the batch's make-up is fixed, so the
    # scores are the same on a fresh, resumed or re-run batch)
    x = np.concatenate([perturbed_inputs(images, ids, c, spec, seed) for c in conditions])
    scores = np.asarray(model.predict(x), dtype=np.float64)
    if not np.isfinite(scores).all():
        raise DataError("The model returned non-finite scores on perturbed images; no "
                        "robustness predictions were written.")
    for cond in conditions:
        rows["case_id"] += ids
        rows["family"] += [cond.family] * len(ids)
        rows["level"] += [cond.level] * len(ids)
        rows["value"] += [cond.value] * len(ids)
        rows["input_sha256"] += list(shas)
    rows["score"] = scores.tolist()
    rows["perturbed_sha256"] = [hashlib.sha256(a.tobytes()).hexdigest() for a in x]
    return _table(rows)


def _still_valid(table: Any, idx: list[int], cases: Sequence[CaseImage], n_cond: int) -> bool:
    """A checkpointed batch counts if its rows are this batch's cases and its images unchanged."""
    ids = [cases[i].case_id for i in idx]
    if table.column("case_id").to_pylist() != ids * n_cond:
        return False
    for i, sha in zip(idx, table.column("input_sha256").to_pylist()[:len(idx)], strict=True):
        try:
            if hashlib.sha256(cases[i].path.read_bytes()).hexdigest() != sha:
                return False
        except OSError:
            return False
    return True


BatchOutcome = tuple[int, Any, list[str]]
"""``(batch number, its table or None, the errors of its unreadable images)``."""


def _read_and_score(model: LockedModel, items: Sequence[CaseImage], conditions: Sequence[Condition],
                    spec: InputSpec, seed: int) -> tuple[Any, list[str]]:
    read = [read_intensity(c, spec) for c in items]
    errors = [r[2] for r in read if r[2] is not None]
    if errors:
        return None, errors
    table = _score_batch(model, list(range(len(items))), items, [r[0] for r in read],  # type: ignore[misc]
                         [r[1] for r in read], conditions, spec, seed)  # type: ignore[misc]
    return table, []


def _local_batches(model: LockedModel, cases: Sequence[CaseImage], batches: list[list[int]],
                   pending: list[int], conditions: Sequence[Condition], spec: InputSpec, seed: int,
                   ) -> Any:
    with deterministic_torch(seed):
        for b in pending:
            table, errors = _read_and_score(model, [cases[i] for i in batches[b]], conditions,
                                            spec, seed)
            yield b, table, errors


def score_batch_task(
    b: int, model_data: bytes, kind: str, sha256: str, cases: list[tuple[str, str]],
    spec_json: dict[str, Any], conditions: list[tuple[str, int, float]], seed: int,
) -> BatchOutcome:
    """One batch of the perturbed runs on a Dask worker.

    The worker loads the locked model from the scattered bytes after checking them against
    ``sha256`` (:func:`validation.models.dask_runner._worker_model`, cached per worker), reads
    the batch's images itself (on a real cluster the images must be on a shared file system)
    and scores every condition exactly as the in-process runner does.
    """
    from validation.models.dask_runner import _worker_model

    spec = InputSpec.model_validate(spec_json)
    model = _worker_model(kind, model_data, sha256)
    items = [CaseImage(cid, Path(path)) for cid, path in cases]
    with deterministic_torch(seed):
        table, errors = _read_and_score(model, items, [Condition(*c) for c in conditions], spec,
                                        seed)
    return b, table, errors


def _dask_batches(model: LockedModel, cases: Sequence[CaseImage], batches: list[list[int]],
                  pending: list[int], conditions: Sequence[Condition], spec: InputSpec, seed: int,
                  scheduler: str, n_workers: int, processes: bool) -> Any:
    from distributed import as_completed

    from validation.models.dask_runner import _client

    try:
        data = Path(model.path).read_bytes()  # re-checked against the locked hash on each worker
    except OSError:
        raise LockedModelError(f"Model artifact '{model.path}' cannot be read.") from None
    if not pending:
        return
    client, cluster = _client(scheduler, n_workers, processes)
    try:
        model_future = client.scatter(data, broadcast=True, hash=False)
        spec_json = spec.model_dump(mode="json")
        conds = [(c.family, c.level, c.value) for c in conditions]
        futures = [client.submit(score_batch_task, b, model_future, model.kind, model.sha256,
                                 [(cases[i].case_id, str(cases[i].path)) for i in batches[b]],
                                 spec_json, conds, seed, pure=False) for b in pending]
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_perturbed_inference(
    model: LockedModel,
    cases: Sequence[CaseImage],
    spec: InputSpec,
    conditions: Sequence[Condition],
    out_path: str | os.PathLike[str],
    *,
    plan_sha256: str,
    seed: int,
    batch_size: int = 32,
    progress: bool = False,
    scheduler: str | None = None,
    n_workers: int = 2,
    processes: bool = True,
) -> Path:
    """Score every case under every condition; write ``robustness_predictions.parquet``.

    Parameters
    ----------
    model : the hash-verified locked model
    cases : the analysed cases (ids unique), in output order
    spec : the model card's input section (its bit depth and modality are checked against the
        families)
    conditions : the perturbed runs (:func:`~validation.models.perturb.conditions_of`)
    out_path : the file to write atomically at the end (resumable from ``<out>.partial/``)
    plan_sha256 : the perturbation plan's hash (part of the checkpoint identity)
    seed : seeds the perturbations (per case) and torch
    batch_size : cases per batch (each image read once per batch for all conditions)
    scheduler : ``None`` (in this process), ``"local"`` (a LocalCluster of ``n_workers``
        worker processes, or threads when ``processes`` is false) or a
        scheduler address: each pending batch is then one Dask task
        (:func:`score_batch_task`); the file is byte-identical to the in-process run's

    Raises
    ------
    DataError
        Unreadable images (all listed) or non-finite scores; nothing named ``out_path`` is
        written and completed batches stay checkpointed.
    LockedModelError
        A family that the card's declared input does not allow.
    """
    import pyarrow as pa

    check_run_options(batch_size, n_workers if scheduler is not None else 0)
    cases = check_cases(cases)
    conditions = list(conditions)
    check_conditions_allowed(conditions, spec)
    out = Path(out_path)
    with contextlib.suppress(FileNotFoundError):
        out.unlink()
    state = run_state(model.sha256, cases, spec, batch_size)
    state.update({"kind": "robustness", "plan_sha256": plan_sha256, "seed": int(seed)})
    checkpoint = Checkpoint(out, state)
    batches = batches_of(len(cases), batch_size)
    tables: dict[int, Any] = {}
    for b, table in checkpoint.open().items():
        if b < len(batches) and _still_valid(table, batches[b], cases, len(conditions)):
            tables[b] = table
        else:
            checkpoint.drop(b)
    pending = [b for b in range(len(batches)) if b not in tables]
    failed: dict[int, list[str]] = {}
    with progress_bar(progress) as bar:
        task = bar.add_task("perturbed inference", total=len(cases) * len(conditions),
                            completed=sum(len(batches[b]) for b in tables) * len(conditions))
        if scheduler is None:
            done = _local_batches(model, cases, batches, pending, conditions, spec, seed)
        else:
            done = _dask_batches(model, cases, batches, pending, conditions, spec, seed,
                                 scheduler, n_workers, processes)
        for b, table, errors in done:
            if errors or table is None:
                failed[b] = errors
            else:
                checkpoint.save(b, table)
                tables[b] = table
            bar.advance(task, len(batches[b]) * len(conditions))
    # errors in case order whatever order the batches finished in
    problems = [e for b in sorted(failed) for e in failed[b]]
    if problems:
        raise DataError(f"{len(problems)} image(s) could not be used; no robustness predictions "
                        "were written.", problems=problems)
    table = (pa.concat_tables([tables[b] for b in range(len(batches))]) if batches
             else _table({k: [] for k in ROBUST_COLUMNS}))
    write_bytes_atomic(out, table_bytes(table))
    checkpoint.remove()
    return out


def write_examples(
    cases: Sequence[CaseImage], spec: InputSpec, conditions: Sequence[Condition], out_dir: Path,
    *, seed: int, n: int,
) -> list[dict[str, Any]]:
    """PNG tiles of ``n`` seeded example cases, unperturbed and at every condition.

    Identifier-free: pixel data only (no header is copied), file names carry the family,
    level and a run-local example number (``X1``, ...), never a case id. Returns the items of
    ``results.json['robustness']['examples']``.
    """
    from validation.demo_images import to_png_bytes

    if n <= 0 or not cases:
        return []
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 0x726F62])
    pick = sorted(rng.choice(len(cases), size=min(n, len(cases)), replace=False).tolist())
    items: list[dict[str, Any]] = []
    for k, i in enumerate(pick, start=1):
        x, _, err = read_intensity(cases[i], spec)
        if err is not None or x is None:
            raise DataError(err or "example image could not be read")
        label = f"X{k}"
        runs = [(None, x)] + [(c, perturb(x, c, case_rng(seed, c, cases[i].case_id)))
                              for c in conditions]
        for cond, img in runs:
            name = (f"{label}-none-0.png" if cond is None
                    else f"{label}-{cond.family}-{cond.level}.png")
            write_bytes_atomic(out_dir / name, to_png_bytes(img[:, :, 0] if img.shape[2] == 1
                                                            else img.mean(axis=2)))
            items.append({"example": label, "family": None if cond is None else cond.family,
                          "level": 0 if cond is None else cond.level,
                          "value": None if cond is None else cond.value,
                          "image": f"robustness/{name}"})
    return items


def predict_robustness(
    protocol: Any, protocol_dir: str | os.PathLike[str], cases: Any, run_dir: Path, *,
    seed: int, progress: bool = False, batch_size: int = 32, scheduler: str | None = None,
) -> dict[str, Any]:
    """The perturbed runs of the protocol's ``robustness`` section for the analysed ``cases``.

    Loads the locked model (hash, card and test sites checked as for plain inference), writes
    ``run_dir/robustness_predictions.parquet`` and the example tiles in
    ``run_dir/robustness/``; ``scheduler`` (``"local"`` or an address) runs the batches as
    Dask tasks. Returns ``{"plan", "predictions" (DataFrame), "examples"}``.
    """
    import pandas as pd

    from validation.models import _case_images, _get, load_protocol_model
    from validation.models.perturb import conditions_of, perturbation_plan

    rob = protocol.robustness
    base = Path(protocol_dir)
    test_sites = sorted({str(s) for s in cases["site"]}) if "site" in cases.columns else []
    model, card, _ = load_protocol_model(protocol, base, test_sites)
    spec = card.input
    if spec is None:  # load_protocol_model refuses this; kept for the type checker
        raise LockedModelError("The model card has no 'input' section.")
    root_rel = _get(protocol, "test_set", "images_root")
    items = _case_images(cases, base / str(root_rel) if root_rel else base)
    conditions = conditions_of(rob)
    plan = perturbation_plan(rob, seed)
    path = run_perturbed_inference(
        model, items, spec, conditions, run_dir / ROBUSTNESS_PREDICTIONS_FILE,
        plan_sha256=plan["sha256"], seed=seed, batch_size=batch_size, progress=progress,
        scheduler=scheduler,
    )
    examples = write_examples(items, spec, conditions, run_dir / "robustness", seed=seed,
                              n=int(rob.examples))
    return {"plan": plan, "predictions": pd.read_parquet(path), "examples": examples}
