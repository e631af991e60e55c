"""Locked models: hash-verified, deterministic inference on the test images.

Entry points for the pipeline (see docs/CONTRACTS.md):

* :func:`predict` runs the protocol's locked model on the analysed cases and writes
  ``predictions.parquet`` (``case_id``, ``score``, ``model_sha256``, ``input_sha256``); for
  ``precomputed`` models it hash-checks and converts the sponsor's file. Beside it, for image
  models, ``phi_scan.json`` records the PHI scan of the DICOM headers (counts, flagged cases and
  attribute names, never values).
* :func:`explain_errors` draws Grad-CAM maps for a seeded sample of false negatives and false
  positives per site and returns the ``explanations`` object of ``results.json``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from validation._atomic import write_json_atomic
from validation.constants import DEFAULT_SEED
from validation.errors import DataError, LockedModelError
from validation.models.artifact import (
    IMAGE_MODEL_KINDS,
    MODEL_KINDS,
    LockedModel,
    file_sha256,
    load_locked_model,
    verify_sha256,
)
from validation.models.card import InputSpec, ModelCard, check_card, load_card
from validation.models.inference import (
    DEFAULT_BATCH_SIZE,
    PREDICTION_COLUMNS,
    CaseImage,
    read_predictions,
    run_inference,
)

__all__ = [
    "CaseImage",
    "IMAGE_MODEL_KINDS",
    "InputSpec",
    "LockedModel",
    "MODEL_KINDS",
    "ModelCard",
    "PREDICTION_COLUMNS",
    "check_card",
    "explain_errors",
    "file_sha256",
    "load_card",
    "load_locked_model",
    "predict",
    "read_predictions",
    "resolve_model",
    "run_inference",
    "verify_sha256",
]

PHI_SCAN_FILE = "phi_scan.json"


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        if obj is None:
            return default
        obj = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
    return default if obj is None else obj


def _protocol_seed(protocol: Any) -> int:
    seed = _get(protocol, "analysis", "seed")
    return int(seed) if seed is not None else DEFAULT_SEED


def resolve_model(protocol: Any, protocol_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The protocol's model section with paths resolved against the protocol's folder.

    Returns a dict: kind, artifact (Path), sha256, card (Path or None), training_sites (list),
    operating_point, score_column.
    """
    base = Path(protocol_dir)
    m = _get(protocol, "model")
    if m is None:
        raise LockedModelError("The protocol has no 'model' section.")
    kind = str(_get(m, "kind"))
    if kind not in MODEL_KINDS:
        raise LockedModelError(
            f"'model.kind' must be one of {', '.join(MODEL_KINDS)}; got {kind!r}."
        )
    card = _get(m, "card")
    return {
        "kind": kind,
        "artifact": base / str(_get(m, "artifact")),
        "sha256": str(_get(m, "sha256")),
        "card": base / str(card) if card else None,
        "training_sites": [str(s) for s in (_get(m, "training_sites", default=[]) or [])],
        "operating_point": float(_get(m, "operating_point")),
        "score_column": str(_get(m, "score_column", default="score")),
    }


def _case_images(cases: Any, images_root: Path) -> list[CaseImage]:
    if "image" not in cases.columns:
        raise DataError(
            "The test-set manifest has no 'image' column; an image model needs one image per case "
            "(a path relative to test_set.images_root)."
        )
    problems = [
        f"case {cid!r}: no image path"
        for cid, img in zip(cases["case_id"], cases["image"], strict=True)
        if not isinstance(img, str) or not img.strip()
    ]
    if problems:
        raise DataError("Some cases have no image; no predictions were written.", problems)
    from validation.data.paths import outside_root_problems

    problems = outside_root_problems(cases, "image", images_root, source="manifest")
    if problems:
        raise DataError("Some image paths leave the images root; no predictions were written.",
                        problems)
    return [
        CaseImage(str(cid), images_root / str(img))
        for cid, img in zip(cases["case_id"], cases["image"], strict=True)
    ]


def load_protocol_model(
    protocol: Any, protocol_dir: str | os.PathLike[str], test_sites: list[str]
) -> tuple[LockedModel, ModelCard, dict[str, Any]]:
    """Verify the card against the protocol and the test sites, then hash-check and load."""
    info = resolve_model(protocol, protocol_dir)
    if info["card"] is None:
        raise LockedModelError(
            "An image model needs a model card ('model.card'): it gives the input size, channels "
            "and normalisation."
        )
    card = load_card(info["card"])
    check_card(
        card,
        card_path=info["card"],
        kind=info["kind"],
        sha256=info["sha256"],
        training_sites=info["training_sites"],
        operating_point=info["operating_point"],
        test_sites=test_sites,
    )
    if card.input is None:
        raise LockedModelError(f"Model card '{info['card'].name}' has no 'input' section.")
    model = load_locked_model(info["artifact"], info["kind"], info["sha256"])
    return model, card, info


def predict(
    protocol: Any,
    protocol_dir: str | os.PathLike[str],
    cases: Any,
    out_path: str | os.PathLike[str],
    *,
    workers: int = 0,
    progress: bool = True,
    scheduler: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    phi_policy: str | None = None,
    dask_workers: int = 2,
    dask_processes: bool = True,
) -> Path:
    """Run the protocol's locked model on the analysed cases; write ``predictions.parquet``.

    Parameters
    ----------
    protocol : the loaded protocol (``validation.protocol.Protocol``; attribute access)
    protocol_dir : folder of the protocol file (its paths are relative to it)
    cases : pandas DataFrame of the analysed cases: ``case_id``, ``image`` (relative to
        ``test_set.images_root``), ``site``, optionally ``patient_id`` and ``non_diagnostic``
    out_path : where to write the predictions (atomically; resumable from ``<out>.partial/``)
    workers : DataLoader worker processes (local runner)
    progress : rich progress bar on stderr
    scheduler : ``None`` for the local runner; ``"local"`` for a Dask LocalCluster; or a
        scheduler address ``tcp://host:port``
    batch_size : cases per batch (part of the checkpoint identity)
    phi_policy : ``refuse`` or ``warn``; default the protocol's ``test_set.phi_policy``, else
        ``refuse``

    Returns
    -------
    Path of the predictions file.

    Raises
    ------
    LockedModelError
        Hash mismatch, model that does not load, card that disagrees with the protocol, test
        sites that are training sites.
    DataError
        Missing, corrupt, wrong-size or wrong-channel images, images with PHI (policy
        ``refuse``), NaN scores. No predictions file is left behind in any of these cases.
    """
    from validation.models.phi import check_policy, scan_images

    out = Path(out_path)
    if out.exists():
        out.unlink()
    base = Path(protocol_dir)
    seed = _protocol_seed(protocol)
    info = resolve_model(protocol, base)
    if info["kind"] == "precomputed":
        from validation.models.precomputed import convert_precomputed

        nd = (
            cases.loc[cases["non_diagnostic"].astype(bool), "case_id"].astype(str).tolist()
            if "non_diagnostic" in cases.columns
            else []
        )
        return convert_precomputed(
            info["artifact"],
            info["sha256"],
            cases["case_id"].astype(str).tolist(),
            out,
            score_column=info["score_column"],
            non_diagnostic=nd,
        )
    test_sites = sorted({str(s) for s in cases["site"]}) if "site" in cases.columns else []
    model, card, info = load_protocol_model(protocol, base, test_sites)
    spec = card.input
    if spec is None:  # load_protocol_model refuses this; kept for the type checker
        raise LockedModelError("The model card has no 'input' section.")
    root_rel = _get(protocol, "test_set", "images_root")
    images_root = base / str(root_rel) if root_rel else base
    items = _case_images(cases, images_root)
    policy = check_policy(phi_policy or _get(protocol, "test_set", "phi_policy", default="refuse"))
    pids = (
        [str(p) for p in cases["patient_id"]]
        if "patient_id" in cases.columns
        else [None] * len(items)
    )
    report = scan_images(
        [(c.case_id, c.path, pid) for c, pid in zip(items, pids, strict=True)], policy=policy
    )
    write_json_atomic(out.with_name(PHI_SCAN_FILE), report.to_dict())
    if scheduler is None:
        return run_inference(
            model,
            items,
            spec,
            out,
            batch_size=batch_size,
            workers=workers,
            seed=seed,
            progress=progress,
        )
    from validation.models.dask_runner import run_inference_dask

    return run_inference_dask(
        info["artifact"],
        info["kind"],
        info["sha256"],
        items,
        spec,
        out,
        batch_size=batch_size,
        scheduler=scheduler,
        n_workers=dask_workers,
        processes=dask_processes,
        seed=seed,
        progress=progress,
    )


def explain_errors(
    protocol: Any,
    protocol_dir: str | os.PathLike[str],
    cases: Any,
    predictions: Any,
    out_dir: str | os.PathLike[str],
    *,
    per_site: int = 2,
    seed: int | None = None,
) -> dict[str, Any] | None:
    """Saliency maps for a seeded sample of FN and FP per site; the ``explanations`` object.

    See :func:`validation.models.explain.explain_cases` (this wrapper loads the locked model
    and its card from the protocol): Grad-CAM for torch models whose card names the
    ``explain`` split, occlusion sensitivity for the others (ONNX included). Returns ``None``
    for precomputed predictions and models without a card ``input`` section (no images).
    """
    from validation.models.explain import explain_cases

    info = resolve_model(protocol, protocol_dir)
    if info["kind"] not in ("torchscript", "torch_export", "onnx") or info["card"] is None:
        return None
    card = load_card(info["card"])
    if card.input is None:
        return None
    model = load_locked_model(info["artifact"], info["kind"], info["sha256"])
    base = Path(protocol_dir)
    root_rel = _get(protocol, "test_set", "images_root")
    images_root = base / str(root_rel) if root_rel else base
    return explain_cases(
        model,
        card,
        cases,
        predictions,
        images_root,
        Path(out_dir),
        operating_point=info["operating_point"],
        per_site=per_site,
        seed=_protocol_seed(protocol) if seed is None else seed,
    )
