"""``validation run``: the steps from a locked protocol to a complete run directory.

Steps (``docs/CONTRACTS.md``):

1. load the protocol and verify its lock (a YAML changed after locking is refused, both hashes
   shown);
2. check the manifest against its data specification and the test-set rules (subgroup and
   exclusion columns exist, no training site, exclusions counted, STARD flow);
3. predictions: precomputed predictions are hash-checked against the locked sha256 and matched
   to the manifest; a model artifact is run by ``validation.models.predict``;
4. reader-study ratings, when the protocol has a reader study;
5. the analysis engine writes ``results.json``;
6. post-analysis steps (report, provenance: see :func:`default_post_steps`), then the finaliser
   renames ``<run-id>.incomplete`` to ``<run-id>``.

Every check that can refuse a run (steps 1-4 for precomputed predictions) runs *before* the run
directory is created. The directory is built as ``<out>/<study-id>/<run-id>.incomplete/`` and
renamed only when every step succeeded; a failed run leaves the ``.incomplete`` folder with a
``FAILED.txt`` saying why, which no reader (nor ``validation verify``) takes for a complete
run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from validation._atomic import write_bytes_atomic, write_text_atomic
from validation.constants import LOCK_FILE, PREDICTIONS_FILE, RESULTS_FILE
from validation.errors import DataError, ValidationError
from validation.run_checks import (  # noqa: F401  (load_test_set is public here too)
    _check_contained_paths,
    _check_reader_columns,
    _check_registry_lock,
    load_test_set,
)
from validation.run_progress import RunProgress

INCOMPLETE_SUFFIX = ".incomplete"
FAILED_FILE = "FAILED.txt"


@dataclass
class RunContext:
    """Everything a step of the run may need; steps add to ``inputs`` and ``artifacts``."""

    protocol_path: Path
    protocol: Any
    lock: Any
    lock_path: Path
    protocol_sha256: str
    model_sha256: str
    seed: int
    out_dir: Path
    run_id: str
    run_dir: Path
    formats: tuple[str, ...] = ()
    registry: Any = None
    operator: str | None = None
    progress: bool = True
    inputs: dict[str, Path] = field(default_factory=dict)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    test_set: Any = None
    cases: pd.DataFrame | None = None
    results: dict[str, Any] | None = None
    artifacts: dict[str, Path] = field(default_factory=dict)
    renderer: str | None = None

    @property
    def protocol_dir(self) -> Path:
        return self.protocol_path.parent

    @property
    def study_id(self) -> str:
        return str(self.protocol.study.id)


PostStep = Callable[[RunContext], None]
Finaliser = Callable[[RunContext], Path]


def render_report_step(ctx: RunContext) -> None:
    """Render the SAP and the performance report from ``results.json`` (when formats given)."""
    if not ctx.formats:
        return
    from validation.report import render_report, renderer_name

    ctx.artifacts["report"] = ctx.run_dir / "report"
    ctx.renderer = renderer_name()
    render_report(ctx.run_dir, ctx.formats)


def default_post_steps() -> list[PostStep]:
    """Steps run after ``results.json`` is written, in order.

    The report (it shows ``inputs.json`` and ``test_set_usage.json``, written when the run
    started), then ``environment.json`` (after the report, so the renderer is known).
    """
    from validation.provenance.steps import record_environment

    return [render_report_step, record_environment]


def rename_complete(ctx: RunContext) -> Path:
    """The plain finaliser: rename ``<run-id>.incomplete`` to ``<run-id>``."""
    final = ctx.run_dir.with_name(ctx.run_id)
    os.rename(ctx.run_dir, final)
    return final


def default_finaliser() -> Finaliser:
    """Provenance's seal: ``manifest.json``, the audit entry holding its hash, the rename."""
    from validation.provenance.steps import seal

    return seal


def make_run_id(parts: Sequence[str], now: datetime | None = None) -> str:
    """``YYYYMMDDTHHMMSSZ-<8 hex>-<4 hex>``: UTC time, a short hash of the run's inputs, and a
    random tag, so two runs of the same inputs in the same second (a reproduction, say) get
    distinct ids in the registry. The id is not part of ``results.json``."""
    import secrets

    t = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    h = hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:8]
    return f"{t}-{h}-{secrets.token_hex(2)}"


def _free_run_dir(study_dir: Path, run_id: str) -> tuple[str, Path]:
    candidate = run_id
    k = 1
    def taken(name: str) -> bool:
        return (study_dir / name).exists() or (study_dir / (name + INCOMPLETE_SUFFIX)).exists()

    while taken(candidate):
        k += 1
        candidate = f"{run_id}-{k}"
    return candidate, study_dir / (candidate + INCOMPLETE_SUFFIX)


def _lock_path(protocol_path: Path) -> Path:
    return protocol_path.with_name(protocol_path.name + ".lock.json")


def _sha256_of(path: Path) -> str:
    from validation.provenance.hashing import sha256_file

    return sha256_file(path)


def run_protocol(
    protocol_path: str | os.PathLike[str],
    *,
    out_dir: str | os.PathLike[str],
    seed: int | None = None,
    formats: Sequence[str] = (),
    registry: Any = None,
    operator: str | None = None,
    progress: bool = True,
    post_steps: Sequence[PostStep] | None = None,
    finaliser: Finaliser | None = None,
    record_start: bool = True,
    dask: str | None = None,
    allow_outside_artifact: bool = False,
) -> Path:
    """Run a locked protocol end to end; return the complete run directory.

    Parameters
    ----------
    protocol_path : the protocol YAML; its lock ``<protocol>.lock.json`` must sit beside it.
    out_dir : the runs folder; the run is written to ``out_dir/<study-id>/<run-id>/``.
    seed : overrides the protocol's ``analysis.seed`` (recorded as a deviation).
    formats : report formats for the report step.
    registry, operator : passed to the provenance steps.
    progress : print one line per step on stderr.
    post_steps : steps after ``results.json`` (default :func:`default_post_steps`).
    finaliser : renames the run complete (default :func:`default_finaliser`).
    record_start : write ``inputs.json`` and record the test-set access when the run starts.
    dask : run the analysis's per-subset tasks on Dask: ``"local"`` (a LocalCluster) or a
        scheduler address; ``results.json`` is byte-identical to the in-process run.
    allow_outside_artifact : accept a model artifact or card outside the protocol's folder.

    Raises
    ------
    ValidationError
        (ProtocolError, LockError, DataError, LockedModelError, ...) for any refused input;
        nothing that looks complete is left behind.
    """
    from validation.analysis.executor import make_executor

    executor = make_executor(dask)  # with --dask, started when the manifest is read
    try:
        return _run_protocol(
            protocol_path, out_dir=out_dir, seed=seed, formats=formats, registry=registry,
            operator=operator, progress=progress, post_steps=post_steps, finaliser=finaliser,
            record_start=record_start, dask=dask, allow_outside_artifact=allow_outside_artifact,
            executor=executor)
    finally:
        executor.close()


def _run_protocol(
    protocol_path: str | os.PathLike[str], *, out_dir: str | os.PathLike[str], seed: int | None,
    formats: Sequence[str], registry: Any, operator: str | None, progress: bool,
    post_steps: Sequence[PostStep] | None, finaliser: Finaliser | None, record_start: bool,
    dask: str | None, allow_outside_artifact: bool, executor: Any,
) -> Path:
    parted = executor if dask else None  # the partitioned checks and join (Dask only)
    from validation.data.predictions import (
        load_precomputed_predictions,
        match_predictions,
        predictions_frame,
    )

    # every argument is checked before the protocol and the test set are read
    from validation.preflight import (
        check_operating_point,
        check_output_dir,
        check_person_text,
        check_report_formats,
        check_seed,
    )
    from validation.protocol import load_protocol, protocol_sha256, verify_lock

    check_seed(seed)
    formats = check_report_formats(formats)
    check_person_text(operator, "--operator")
    check_output_dir(out_dir)
    show = RunProgress(progress)
    ppath = Path(protocol_path)
    show.step(f"protocol {ppath.name}: checking and verifying its lock")
    protocol = load_protocol(ppath)
    lock = verify_lock(ppath)
    p_sha = protocol_sha256(protocol)
    if p_sha != lock.protocol_sha256:
        from validation.errors import LockError

        raise LockError(
            f"the protocol {ppath} reads differently from when it was locked: its canonical "
            f"sha256 is now {p_sha}, the lock records {lock.protocol_sha256} (the suite's "
            "defaults changed?). Re-lock the protocol after review."
        )
    pdir = ppath.parent
    _check_reader_columns(protocol)

    show.step(f"test set {protocol.test_set.manifest}: data specification and checks")
    with show.bar("manifest partitions checked (dask)") if dask else nullcontext() as update:
        test_set = load_test_set(protocol, pdir, executor=parted, progress=update)
    _check_contained_paths(protocol, pdir, test_set, allow_outside_artifact)
    flow = test_set.flow

    deviations: list[dict[str, Any]] = []
    run_seed = int(protocol.analysis.seed)
    if seed is not None and int(seed) != run_seed:
        deviations.append(
            {
                "id": "D1",
                "kind": "seed",
                "description": f"seed {int(seed)} given at run time instead of the protocol's "
                f"analysis.seed {run_seed}",
                "impact": "Resampling-based intervals and p-values (bootstrap) use this seed; "
                "estimates and closed-form intervals are unchanged.",
                "approved_by": None,
            }
        )
        run_seed = int(seed)

    model = protocol.model
    artifact = pdir / model.artifact
    inputs: dict[str, Path] = {"protocol": ppath, "manifest": pdir / protocol.test_set.manifest}
    cases = None
    if model.kind == "precomputed":
        show.step(f"predictions {model.artifact}: locked hash and match to the manifest")
        with show.bar("prediction partitions checked (dask)") if dask else nullcontext() as update:
            preds = load_precomputed_predictions(
                artifact, sha256=model.sha256, score_column=model.score_column or "score",
                executor=parted, progress=update,
            )
        cases = match_predictions(test_set, preds, source=artifact.name, executor=parted)
        check_operating_point(cases["score"], model.operating_point, source=artifact.name)
        inputs["predictions"] = artifact
    else:
        inputs["model"] = artifact
        if model.card:
            inputs["model_card"] = pdir / model.card
        # the locked artifact and its card are checked before any run folder exists
        show.step(f"model {model.artifact}: locked hash, model card and test sites")
        from validation.models import load_protocol_model

        load_protocol_model(protocol, pdir, test_set.sites)
    ratings = None
    dropped = 0
    if protocol.reader_study is not None:
        from validation.data.ratings import load_ratings

        rpath = pdir / protocol.reader_study.ratings
        show.step(f"reader study {protocol.reader_study.ratings}: data specification and match")
        r = load_ratings(rpath, test_set, modalities=protocol.reader_study.modalities,
                         design=protocol.reader_study.design)
        ratings, dropped = r.table, r.dropped_excluded
        inputs["ratings"] = rpath
    localization = None
    if protocol.localization is not None:
        from validation.data.marks import load_localization

        show.step("localization: marks and lesion truth, data specifications and match")
        localization = load_localization(
            protocol.localization, pdir, set(test_set.manifest["case_id"].astype(str)))
        inputs.update(localization.paths)
    if protocol.test_set.images_root:
        inputs["images"] = pdir / protocol.test_set.images_root
    seg = getattr(protocol, "segmentation", None)
    if seg is not None:  # masks (reference and the device's) and measurements are hashed inputs
        if seg.masks_index:
            inputs["segmentation_index"] = pdir / seg.masks_index
            inputs["segmentation_masks"] = pdir / (seg.masks_root or Path(seg.masks_index).parent)
        if seg.measurements:
            inputs["measurements"] = pdir / seg.measurements
    outcomes = None
    if protocol.risk is not None and protocol.risk.outcomes is not None:
        from validation.data.time_to_event import load_outcomes

        opath = pdir / protocol.risk.outcomes.file
        show.step(f"outcomes {protocol.risk.outcomes.file}: locked hash and data specification")
        outcomes = load_outcomes(opath, sha256=protocol.risk.outcomes.sha256)
        inputs["outcomes"] = opath

    _check_registry_lock(registry, _lock_path(ppath))
    from validation.provenance.signatures import require_valid_signatures

    require_valid_signatures(registry, _lock_path(ppath))  # electronic signatures, if any
    if record_start:  # a governed test set (budget, authorised people): checked before reading
        from validation.provenance.finalize import default_operator
        from validation.provenance.governance import check_governed_access

        check_governed_access(registry, inputs, operator=operator or default_operator(),
                              purpose="run", subject=str(protocol.study.id))

    out = Path(out_dir)
    study_dir = out / protocol.study.id
    try:
        study_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from validation.errors import InputError

        raise InputError(f"'--out' must be a folder this user can write; got {str(out)!r} "
                         f"({exc.strerror or exc}). Give another path.") from None
    run_id = make_run_id(
        [p_sha, _sha256_of(inputs["manifest"]), model.sha256, str(run_seed)]
    )
    run_id, run_dir = _free_run_dir(study_dir, run_id)
    run_dir.mkdir(parents=True)
    ctx = RunContext(
        protocol_path=ppath,
        protocol=protocol,
        lock=lock,
        lock_path=_lock_path(ppath),
        protocol_sha256=p_sha,
        model_sha256=model.sha256,
        seed=run_seed,
        out_dir=out,
        run_id=run_id,
        run_dir=run_dir,
        formats=tuple(formats),
        registry=registry,
        operator=operator,
        progress=progress,
        inputs=inputs,
        records=_input_records(protocol, run_seed),
        test_set=test_set,
    )
    try:
        write_bytes_atomic(run_dir / LOCK_FILE, ctx.lock_path.read_bytes())
        from validation.provenance.signatures import copy_signatures

        copy_signatures(ctx.lock_path, run_dir / LOCK_FILE)
        if record_start:
            # Before any prediction or label is used: a run killed later is still in the
            # sequestered test set's access log.
            from validation.provenance.steps import record_start as _record_start

            _record_start(ctx)
        pred_path = run_dir / PREDICTIONS_FILE
        if cases is None:
            show.step(f"model {model.artifact}: inference")
            cases = _predict_with_model(ctx, pred_path)
        else:
            frame = predictions_frame(cases, model_sha256=model.sha256)
            _write_parquet(frame, pred_path)
        if outcomes is not None:
            from validation.data.time_to_event import match_outcomes

            cases = match_outcomes(test_set, cases, outcomes, source=opath.name)
        ctx.cases = cases
        ctx.artifacts["predictions"] = pred_path
        perturbed = _robustness_runs(ctx, cases, show, dask)

        show.step("analysis: endpoints, sites, subgroups, hypotheses")
        from validation.analysis.engine import analyse
        from validation.analysis.executor import one_blas_thread
        from validation.analysis.results import write_results

        with one_blas_thread():  # the same sums whatever the cores (and as on Dask's workers)
            results = analyse(
                protocol,
                cases,
                flow=flow,
                protocol_sha256=p_sha,
                model_sha256=model.sha256,
                seed=run_seed,
                ratings=ratings,
                ratings_dropped_excluded=dropped,
                localization=localization,
                deviations=deviations,
                executor=executor,
                progress=lambda text: show.step(f"  {text}"),
                progress_bar=show.bar,
                robustness=perturbed,
                protocol_dir=ctx.protocol_dir,
            )
        explanations = _explain_errors(ctx, cases, pred_path)
        if explanations is not None:
            results["explanations"] = explanations
        ctx.results = results
        ctx.artifacts["results"] = write_results(run_dir / RESULTS_FILE, results)

        for step in default_post_steps() if post_steps is None else post_steps:
            show.step(f"{getattr(step, '__name__', 'step')}")
            step(ctx)
        final = (finaliser or default_finaliser())(ctx)
    except BaseException as exc:
        _mark_failed(run_dir, exc)
        raise
    show.step(f"complete: {final}")
    return final


def _input_records(protocol: Any, seed: int) -> dict[str, dict[str, Any]]:
    """Inputs that are no file, hashed into ``inputs.json``: the robustness perturbation plan."""
    rob = getattr(protocol, "robustness", None)
    if rob is None or str(protocol.model.kind) == "precomputed":
        return {}
    from validation.models.perturb import perturbation_plan

    return {"robustness_plan": perturbation_plan(rob, seed)}


def _robustness_runs(ctx: RunContext, cases: pd.DataFrame, show: RunProgress,
                     dask: str | None = None) -> Any:
    """The perturbed inference of the protocol's ``robustness`` section (None without one);
    its batches run as Dask tasks when ``dask`` is given."""
    rob = getattr(ctx.protocol, "robustness", None)
    if rob is None or str(ctx.protocol.model.kind) == "precomputed":
        return None
    from validation.models.robust_inference import predict_robustness

    n = sum(len(f.severities) for f in rob.families)
    show.step(f"robustness: {n} perturbed runs of the locked model (images read once)")
    out = predict_robustness(ctx.protocol, ctx.protocol_dir, ctx.test_set.analysed, ctx.run_dir,
                             seed=ctx.seed, progress=ctx.progress, scheduler=dask)
    ctx.artifacts["robustness_predictions"] = ctx.run_dir / "robustness_predictions.parquet"
    return out


def _explain_errors(ctx: RunContext, cases: pd.DataFrame, pred_path: Path) -> Any:
    """Grad-CAM maps of a seeded sample of errors, for image models that support them."""
    if str(ctx.protocol.model.kind) == "precomputed":
        return None
    from validation.models import explain_errors, read_predictions

    ex = explain_errors(
        ctx.protocol, ctx.protocol_dir, cases, read_predictions(pred_path),
        ctx.run_dir / "explanations", seed=ctx.seed,
    )
    if ex is not None:
        _write_case_key(ctx, ex.pop("case_key", {}))
    return ex


CASE_KEYS_DIR = ".case-keys"


def case_key_path(run_dir: Path, run_id: str) -> Path:
    """``<runs>/.case-keys/<study-id>/<run-id>.json``: outside the run folder and its study
    folder (which holds only runs), never inside the dossier."""
    study = run_dir.parent
    return study.parent / CASE_KEYS_DIR / study.name / f"{run_id}.json"


def _write_case_key(ctx: RunContext, key: dict[str, str]) -> None:
    """The pseudonym -> case id map of the report's cases, kept outside the dossier (not in
    its manifest): whoever holds it can find a case, the dossier alone cannot."""
    if key:
        from validation._atomic import write_json_atomic

        write_json_atomic(case_key_path(ctx.run_dir, ctx.run_id),
                          {"run_id": ctx.run_id, "pseudonyms": key})


def _mark_failed(run_dir: Path, exc: BaseException) -> None:
    if not run_dir.is_dir():
        return
    kind = "refused" if isinstance(exc, ValidationError) else "failed"
    try:
        write_text_atomic(
            run_dir / FAILED_FILE,
            f"This run {kind} and is not complete.\n{type(exc).__name__}: {exc}\n",
        )
    except OSError:  # pragma: no cover - the disk itself failed
        pass


def _write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """``predictions.parquet`` with fixed column types and no pandas metadata (stable bytes)."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "case_id": pa.array(frame["case_id"].astype(str).tolist(), pa.string()),
            "score": pa.array(
                frame["score"].astype("float64").to_numpy(), pa.float64(), from_pandas=True
            ),
            "model_sha256": pa.array(frame["model_sha256"].astype(str).tolist(), pa.string()),
            "input_sha256": pa.array(
                [None if pd.isna(v) else str(v) for v in frame["input_sha256"]], pa.string()
            ),
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return write_bytes_atomic(path, buf.getvalue())


def _predict_with_model(ctx: RunContext, pred_path: Path) -> pd.DataFrame:
    """Step 3 for a model artifact: ``validation.models.predict`` then the usual match."""
    try:
        from validation.models import predict
    except ImportError:  # pragma: no cover - depends on the models layer being installed
        raise DataError(
            f"model kind {ctx.protocol.model.kind!r} needs the model-inference layer "
            "(validation.models.predict), which this installation lacks; use precomputed "
            "predictions."
        ) from None
    from validation.data.predictions import match_predictions
    from validation.data.specs import load_spec, validate_table

    analysed = ctx.test_set.analysed
    written = Path(
        predict(ctx.protocol, ctx.protocol_dir, analysed, pred_path, progress=ctx.progress)
    )
    raw = pd.read_parquet(written)
    preds = validate_table(raw, load_spec("predictions"), source=written.name)
    return match_predictions(ctx.test_set, preds, source=written.name)


def remove_failed_runs(study_dir: str | os.PathLike[str]) -> int:
    """Delete ``*.incomplete`` folders under ``study_dir``; return how many (housekeeping)."""
    n = 0
    for p in Path(study_dir).glob(f"*{INCOMPLETE_SUFFIX}"):
        if p.is_dir():
            shutil.rmtree(p)
            n += 1
    return n
