"""Segmentation masks and measurements: the mask index, the mask files and the measurements table.

The mask index (``data_specs/segmentation_masks_index.yaml``) has one row per case, annotator
and label, with the reference ``mask`` and the device's ``prediction``. Masks are NIfTI
(``.nii``/``.nii.gz``, through nibabel, spacing from the header's voxel sizes), DICOM-SEG
(``.dcm``, :mod:`validation.data.dicom_seg`; the label is the segment number) or NumPy
(``.npy``, spacing from the index's ``spacing_mm`` for the first two axes and
``slice_spacing_mm`` for the third). Every problem (a missing or unreadable file, a shape or
spacing mismatch between reference and prediction, a non-binary mask where the protocol
declares binary masks, a case not in the manifest, a missing measurement) is collected and
raised at once as :class:`~validation.errors.DataError`, each naming the case and the reason.
Nothing is dropped silently: an unreadable or invalid mask file excludes its case only when the
protocol says so (``unreadable: exclude``), and the exclusion is returned with its reason.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from validation.data.specs import load_table, read_table
from validation.errors import DataError
from validation.provenance.hashing import sha256_file

NIFTI_SUFFIXES = (".nii", ".nii.gz")
SPACING_TOLERANCE_MM = 1e-4
"""Reference and prediction spacings (and index versus header) must agree to this (mm)."""


@dataclass(frozen=True, slots=True)
class MaskPair:
    """One row of the index: a case's reference and predicted mask for one label."""

    case_id: str
    label: int
    annotator_id: str
    reference: Path
    prediction: Path
    spacing: tuple[float, ...] | None  # from the index (.npy), else from the header
    row: int


@dataclass(frozen=True, slots=True)
class LoadedPair:
    """A mask pair read from disk: boolean arrays of one shape and the voxel spacing (mm)."""

    case_id: str
    label: int
    reference: NDArray[np.bool_]
    prediction: NDArray[np.bool_]
    spacing: tuple[float, ...]


def _is_nifti(path: Path) -> bool:
    return path.name.lower().endswith(NIFTI_SUFFIXES)


def _inside(root: Path, rel: str) -> Path | None:
    p = PurePosixPath(rel.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts:
        return None
    return root / Path(*p.parts)


def read_mask_index(
    index_path: str | os.PathLike[str], *, masks_root: str | os.PathLike[str],
    spec: str = "segmentation_masks_index",
    case_ids: Sequence[str], reference_annotator: str | None = None,
) -> list[MaskPair]:
    """Read and check the mask index; return the pairs of the analysed cases.

    Parameters
    ----------
    index_path : the index table (CSV or Parquet)
    masks_root : the folder that the mask paths are relative to
    spec : the table specification (a name in data_specs/ or a .yaml path)
    case_ids : the analysed cases (the test set after exclusions); rows of other cases in the
        manifest are dropped (excluded cases are never analysed), rows of cases not in it are
        an error
    reference_annotator : which annotator's masks are the reference when there are several

    Raises
    ------
    DataError
        Listing every problem: index rows naming unknown cases, missing files, paths leaving
        the masks folder, a missing prediction, several annotators without a choice, and
        analysed cases without masks.
    """
    path = Path(index_path)
    root = Path(masks_root)
    df = load_table(path, spec, what="segmentation masks index")
    problems: list[str] = []
    if "prediction" not in df.columns:
        raise DataError(f"{path.name}: the segmentation masks index must have a 'prediction' column (the "
                        "device's mask file of each row).")
    df["case_id"] = df["case_id"].astype(str)
    analysed = {str(c) for c in case_ids}
    if reference_annotator is not None:
        df = df[df["annotator_id"].astype(str) == reference_annotator]
    else:
        several = df.groupby(["case_id", "label"])["annotator_id"].nunique()
        if (several > 1).any():
            first = several[several > 1].index[0]
            raise DataError(
                f"{path.name}: case {first[0]!r} label {first[1]} has masks of several annotators; set "
                "segmentation.reference_annotator in the protocol to say which is the reference."
            )
    pairs: list[MaskPair] = []
    seen: set[str] = set()
    for i, rec in enumerate(df.to_dict("records"), start=1):
        case = str(rec["case_id"])
        if case not in analysed:
            continue  # an excluded case (counted in the flow), or not in the manifest (checked below)
        seen.add(case)
        paths: dict[str, Path] = {}
        for col in ("mask", "prediction"):
            value = rec.get(col)
            if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
                problems.append(f"case {case!r} (row {i}): '{col}' is empty; every row needs both masks.")
                continue
            target = _inside(root, str(value))
            if target is None:
                problems.append(f"case {case!r} (row {i}): '{col}' {value!r} must be a path inside the masks "
                                "folder (no absolute path, no '..').")
            elif not target.is_file():
                problems.append(f"case {case!r} (row {i}): {col} file {value!r} does not exist.")
            else:
                paths[col] = target
        spacing = None
        if "spacing_mm" in df.columns and pd.notna(rec.get("spacing_mm")):
            sz = rec.get("slice_spacing_mm")
            spacing = (float(rec["spacing_mm"]),) * 2 + ((float(sz),) if sz is not None and pd.notna(sz) else ())
        expected = rec.get("mask_sha256")
        if "mask" in paths and isinstance(expected, str) and expected and sha256_file(paths["mask"]) != expected:
            problems.append(f"case {case!r} (row {i}): the reference mask {str(rec['mask'])!r} does not match its "
                            "mask_sha256 (changed since the index was written).")
        if len(paths) == 2:
            pairs.append(MaskPair(case_id=case, label=int(rec["label"]), annotator_id=str(rec["annotator_id"]),
                                  reference=paths["mask"], prediction=paths["prediction"], spacing=spacing, row=i))
    missing = sorted(analysed - seen)
    if missing:
        problems.append(
            f"{len(missing)} analysed case(s) have no masks in the index: {', '.join(map(repr, missing[:20]))}"
            f"{' ...' if len(missing) > 20 else ''}. Add them, or exclude them by a protocol rule."
        )
    if problems:
        raise DataError(f"{path.name}: the segmentation masks index has {len(problems)} problem(s):", problems)
    return sorted(pairs, key=lambda p: (p.case_id, p.label))


def _read(path: Path) -> tuple[NDArray[Any], tuple[float, ...] | None]:
    if _is_nifti(path):
        import nibabel as nib

        img = nib.load(str(path))
        data = np.asanyarray(img.dataobj)  # type: ignore[attr-defined]
        zooms = tuple(float(z) for z in img.header.get_zooms()[: data.ndim])  # type: ignore[attr-defined]
        return data, zooms
    if path.suffix.lower() == ".npy":
        return np.load(path, allow_pickle=False), None
    from validation.data.dicom_seg import is_dicom_seg, read_dicom_seg

    if is_dicom_seg(path):
        return read_dicom_seg(path)
    raise ValueError(f"unsupported mask format {path.name!r} (use .nii, .nii.gz, .npy or a DICOM-SEG .dcm)")


def _select(data: NDArray[Any], label: int, mask_format: str) -> tuple[NDArray[np.bool_] | None, str | None]:
    if data.dtype.kind not in "biuf":
        return None, f"holds values of type {data.dtype}, not a mask"
    if data.dtype.kind == "f":
        if not np.isfinite(data).all():
            return None, "holds NaN or infinite values"
        if not np.array_equal(data, np.round(data)):
            return None, "holds non-integer values (a probability map, not a mask?)"
    if mask_format == "binary":
        values = np.unique(data)
        if not np.isin(values, (0, 1)).all():
            bad = [v.item() for v in values if v not in (0, 1)][:5]
            return None, f"is declared binary but holds values {bad}"
        return data == 1, None
    return data == label, None


def load_pairs(pairs: Sequence[MaskPair], *, mask_format: str = "labelled",
               excluded: list[dict[str, Any]] | None = None) -> Iterator[LoadedPair]:
    """Read each pair (one at a time, so that large volumes are not all held in memory).

    Problems are collected while reading (reading every volume twice to check it first would
    double the I/O); once one is found no further pair is yielded, and all of them are raised
    together when the iteration ends.

    With ``excluded`` (a list, the protocol's ``unreadable: exclude``) a mask file that cannot
    be read or is not a valid mask (not 2-D or 3-D, not mask values, non-binary where binary is
    declared) is not a problem: the pair is skipped and ``{"case_id", "label", "reason"}``
    appended to ``excluded``. Shape and spacing mismatches stay problems.

    Raises
    ------
    DataError
        Naming each case and its reason: unreadable file, shape or spacing mismatch between
        reference and prediction, index spacing disagreeing with the header, non-binary mask
        declared binary, a volume that is not 2-D or 3-D.
    """
    problems: list[str] = []
    for p in pairs:
        who = f"case {p.case_id!r} label {p.label}"
        arrays: dict[str, NDArray[np.bool_]] = {}
        spacings: dict[str, tuple[float, ...] | None] = {}
        invalid: list[str] = []
        for what, path in (("reference", p.reference), ("prediction", p.prediction)):
            try:
                data, zooms = _read(path)
            except Exception as exc:  # noqa: BLE001 (any reader failure is this case's problem)
                text = str(exc).replace(str(path), path.name)  # no folder of this machine in the reason
                invalid.append(f"cannot read the {what} mask {path.name!r}: {text}")
                continue
            data = np.squeeze(data) if data.ndim > 3 else data
            if data.ndim not in (2, 3):
                invalid.append(f"the {what} mask must be 2-D or 3-D; got shape {data.shape}.")
                continue
            mask, why = _select(data, p.label, mask_format)
            if mask is None:
                invalid.append(f"the {what} mask {path.name!r} {why}.")
                continue
            arrays[what], spacings[what] = mask, zooms
        if invalid and excluded is not None:
            excluded.append({"case_id": p.case_id, "label": p.label, "reason": "; ".join(invalid)})
            continue
        problems.extend(f"{who}: {text}" for text in invalid)
        if len(arrays) < 2:
            continue
        ref, pred = arrays["reference"], arrays["prediction"]
        if ref.shape != pred.shape:
            problems.append(f"{who}: shape mismatch, reference {ref.shape} and prediction {pred.shape}; "
                            "resample the prediction onto the reference grid.")
            continue
        sr, sp = spacings["reference"], spacings["prediction"]
        if sr is not None and sp is not None and not np.allclose(sr, sp, rtol=0, atol=SPACING_TOLERANCE_MM):
            problems.append(f"{who}: spacing mismatch, reference {sr} mm and prediction {sp} mm.")
            continue
        header = sr or sp
        spacing = header
        if p.spacing is not None:
            if len(p.spacing) != ref.ndim:
                problems.append(f"{who}: the index gives {len(p.spacing)} spacings for a {ref.ndim}-D mask; "
                                "give slice_spacing_mm for 3-D .npy masks.")
                continue
            if header is not None and not np.allclose(header, p.spacing, rtol=0, atol=SPACING_TOLERANCE_MM):
                problems.append(f"{who}: spacing in the index {p.spacing} mm disagrees with the NIfTI header "
                                f"{header} mm.")
                continue
            spacing = p.spacing
        if spacing is None:
            problems.append(f"{who}: no voxel spacing (a .npy mask needs spacing_mm, and slice_spacing_mm "
                            "for 3-D, in the index).")
            continue
        if not all(math.isfinite(s) and s > 0 for s in spacing):
            problems.append(f"{who}: voxel spacing must be positive; got {spacing}.")
            continue
        if not problems:
            yield LoadedPair(case_id=p.case_id, label=p.label, reference=ref, prediction=pred,
                             spacing=tuple(float(s) for s in spacing))
    if problems:
        raise DataError(f"segmentation masks: {len(problems)} problem(s):", problems)


def read_measurements(path: str | os.PathLike[str], *, case_ids: Sequence[str],
                      numeric: Sequence[str], categorical: Sequence[str]) -> pd.DataFrame:
    """The measurements of the analysed cases: ``case_id`` and the named columns.

    Numeric columns must hold a finite number for every analysed case; categorical ones a
    value. A missing (NaN) measurement is an error naming the case and column (never dropped).
    """
    p = Path(path)
    df = read_table(p, what="measurements")
    problems: list[str] = []
    need = ["case_id", *dict.fromkeys([*numeric, *categorical])]
    absent = [c for c in need if c not in df.columns]
    if absent:
        raise DataError(f"{p.name}: missing column(s) {', '.join(map(repr, absent))}.")
    df = df.assign(case_id=df["case_id"].astype(str))
    dup = df["case_id"][df["case_id"].duplicated()].unique().tolist()
    if dup:
        problems.append(f"case(s) listed more than once: {', '.join(map(repr, dup[:20]))}.")
    analysed = [str(c) for c in case_ids]
    df = df[df["case_id"].isin(analysed)].set_index("case_id")
    missing = [c for c in analysed if c not in df.index]
    if missing:
        problems.append(f"{len(missing)} analysed case(s) have no measurements: "
                        f"{', '.join(map(repr, missing[:20]))}.")
    for col in numeric:
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.index[~np.isfinite(values.to_numpy(dtype=float))].tolist()
        for case in bad[:50]:
            problems.append(f"case {case!r}: measurement {col!r} is missing or not a finite number "
                            f"({df.at[case, col]!r}).")
        df[col] = values
    for col in categorical:
        blank = df[col].isna() | (df[col].astype(str).str.strip() == "")
        for case in df.index[blank].tolist()[:50]:
            problems.append(f"case {case!r}: categorical read {col!r} is missing.")
        as_number = pd.to_numeric(df[col], errors="coerce")
        if not blank.any() and as_number.notna().all():  # ordered numeric grades stay numbers
            whole = np.array_equal(as_number.to_numpy(), np.round(as_number.to_numpy()))
            df[col] = as_number.astype(np.int64) if whole else as_number
    if problems:
        raise DataError(f"{p.name}: {len(problems)} problem(s) in the measurements:", problems)
    return df.loc[[c for c in analysed if c in df.index]].reset_index()
