"""DICOM Segmentation (DICOM-SEG) masks read through pydicom.

A DICOM-SEG object (Segmentation Storage, SOP class 1.2.840.10008.5.1.4.1.1.66.4; DICOM PS3.3
A.51 and C.8.20) holds one frame per segment and slice, each frame naming its segment
(``SegmentIdentificationSequence``) and its position (``PlanePositionSequence``). It is read
into a labelled volume of shape (slices, rows, columns), the voxel value being the segment
number, with the spacing (slice spacing, row spacing, column spacing) in mm, so that the mask
index's ``label`` is the segment number.

Rules, each a stated refusal rather than a guess:

* BINARY segmentations only (a FRACTIONAL one is a probability map, not a mask);
* one orientation for every frame; the slices lie on a regular grid of the shared
  ``SpacingBetweenSlices`` (or ``SliceThickness``) and the volume spans the frames' first to
  last position, so two objects describing the same series but omitting different empty
  slices at the ends have different shapes (reported as a shape mismatch: export every slice);
* overlapping segments (one voxel in two segments) cannot be one labelled volume: refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"
DICOM_SUFFIXES = (".dcm",)


def is_dicom_seg(path: Path) -> bool:
    return path.name.lower().endswith(DICOM_SUFFIXES)


def _first(seq: Any, name: str) -> Any:
    items = getattr(seq, name, None)
    return items[0] if items else None


def read_dicom_seg(path: Path) -> tuple[NDArray[np.int32], tuple[float, float, float]]:
    """The labelled volume (slices, rows, columns) of a DICOM-SEG file and its spacing (mm).

    Raises
    ------
    ValueError
        Saying what the file lacks or breaks (not a SEG object, fractional, irregular or
        oblique slices, overlapping segments); the caller names the case.
    """
    import pydicom

    ds = pydicom.dcmread(str(path))
    if str(getattr(ds, "SOPClassUID", "")) != SEG_SOP_CLASS:
        raise ValueError(f"not a DICOM Segmentation object (SOP class {getattr(ds, 'SOPClassUID', None)!s})")
    if str(getattr(ds, "SegmentationType", "")) != "BINARY":
        raise ValueError(f"segmentation type {getattr(ds, 'SegmentationType', None)!s}; only BINARY masks are "
                         "read (a FRACTIONAL one is a probability map)")
    shared = _first(ds, "SharedFunctionalGroupsSequence")
    frames = list(getattr(ds, "PerFrameFunctionalGroupsSequence", None) or [])
    pixels = np.asarray(ds.pixel_array)
    if pixels.ndim == 2:
        pixels = pixels[None]
    if not frames or len(frames) != pixels.shape[0]:
        raise ValueError(f"{len(frames)} per-frame entries for {pixels.shape[0]} frames")

    def item(frame: Any, group: str) -> Any:
        return _first(frame, group) or _first(shared, group)

    measures = item(frames[0], "PixelMeasuresSequence")
    orient = item(frames[0], "PlaneOrientationSequence")
    if measures is None or orient is None:
        raise ValueError("no PixelMeasuresSequence or PlaneOrientationSequence")
    row_mm, col_mm = (float(v) for v in measures.PixelSpacing)
    step = getattr(measures, "SpacingBetweenSlices", None) or getattr(measures, "SliceThickness", None)
    iop = np.asarray([float(v) for v in orient.ImageOrientationPatient])
    normal = np.cross(iop[:3], iop[3:])
    positions, segments = [], []
    for f in frames:
        o = item(f, "PlaneOrientationSequence")
        if o is not None and not np.allclose([float(v) for v in o.ImageOrientationPatient], iop, atol=1e-4):
            raise ValueError("frames of several orientations")
        pos = _first(f, "PlanePositionSequence")
        seg = _first(f, "SegmentIdentificationSequence")
        if pos is None or seg is None:
            raise ValueError("a frame without PlanePositionSequence or SegmentIdentificationSequence")
        positions.append(float(np.dot([float(v) for v in pos.ImagePositionPatient], normal)))
        segments.append(int(seg.ReferencedSegmentNumber))
    distinct = sorted(set(np.round(positions, 4).tolist()))
    if len(distinct) > 1 and step is None:
        raise ValueError("several slices but no SpacingBetweenSlices or SliceThickness")
    slice_mm = float(step) if step is not None else 1.0
    index = np.round((np.asarray(positions) - distinct[0]) / slice_mm)
    if not np.allclose(index * slice_mm, np.asarray(positions) - distinct[0], atol=1e-3):
        raise ValueError(f"frame positions are not on a regular grid of {slice_mm} mm")
    volume = np.zeros((int(index.max()) + 1, *pixels.shape[1:]), dtype=np.int32)
    for k, seg_no, frame in zip(index.astype(int), segments, pixels, strict=True):
        on = frame.astype(bool)
        if np.any(on & (volume[k] != 0) & (volume[k] != seg_no)):
            raise ValueError(f"segment {seg_no} overlaps another segment; a labelled volume cannot hold both")
        volume[k][on] = seg_no
    return volume, (slice_mm, row_mm, col_mm)
