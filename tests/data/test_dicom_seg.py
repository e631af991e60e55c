"""DICOM-SEG masks: a pair written as DICOM Segmentation objects (pydicom) gives the metrics of
the same masks read from the example's NIfTI files; fractional objects are refused."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from validation.data.masks import MaskPair, load_pairs
from validation.errors import DataError
from validation.stats import segmentation_metrics

DATA = Path(__file__).resolve().parents[2] / "protocols" / "examples" / "segmentation" / "masks"


def _write_seg(labels: np.ndarray, zooms: tuple[float, ...], path: Path, *, kind: str = "BINARY") -> None:
    """``labels`` (x, y, z) of a NIfTI file as a DICOM-SEG: one frame per segment and slice,
    rows along y, columns along x, axial slices ``zooms[2]`` mm apart (every slice written)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.pixels import pack_bits
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.66.4"
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[path.name])
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.SegmentationType = "SEG", kind
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 1
    ds.HighBit = ds.PixelRepresentation = 0
    ds.Rows, ds.Columns = labels.shape[1], labels.shape[0]
    measures = Dataset()
    measures.PixelSpacing = [zooms[1], zooms[0]]
    measures.SpacingBetweenSlices = zooms[2]
    orient = Dataset()
    orient.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    shared = Dataset()
    shared.PixelMeasuresSequence, shared.PlaneOrientationSequence = [measures], [orient]
    ds.SharedFunctionalGroupsSequence = [shared]
    frames, per_frame = [], []
    for seg in (1, 2):
        for k in range(labels.shape[2]):
            frames.append((labels[:, :, k] == seg).T)
            pos, ident, item = Dataset(), Dataset(), Dataset()
            pos.ImagePositionPatient = [0.0, 0.0, k * zooms[2]]
            ident.ReferencedSegmentNumber = seg
            item.PlanePositionSequence, item.SegmentIdentificationSequence = [pos], [ident]
            per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = per_frame
    ds.NumberOfFrames = len(frames)
    ds.PixelData = pack_bits(np.stack(frames).astype(np.uint8))
    ds.save_as(path, enforce_file_format=True)


def _nifti(name: str) -> tuple[np.ndarray, tuple[float, ...]]:
    img = nib.load(str(DATA / name))
    return np.asarray(img.dataobj), tuple(float(z) for z in img.header.get_zooms())


@pytest.mark.parametrize("label", [1, 2])
def test_dicom_seg_pair_gives_the_nifti_metrics(tmp_path: Path, label: int) -> None:
    ref, zooms = _nifti("SEG-003_ref.nii.gz")
    pred, _ = _nifti("SEG-003_pred.nii.gz")
    _write_seg(ref, zooms, tmp_path / "ref.dcm")
    _write_seg(pred, zooms, tmp_path / "pred.dcm")
    pair = MaskPair(case_id="SEG-003", label=label, annotator_id="R1", reference=tmp_path / "ref.dcm",
                    prediction=tmp_path / "pred.dcm", spacing=None, row=1)
    (loaded,) = list(load_pairs([pair]))
    assert loaded.spacing == (zooms[2], zooms[1], zooms[0])
    assert loaded.reference.shape == (ref.shape[2], ref.shape[1], ref.shape[0])
    got = segmentation_metrics(loaded.reference, loaded.prediction, spacing=loaded.spacing, tolerance_mm=2.0)
    want = segmentation_metrics(ref == label, pred == label, spacing=zooms, tolerance_mm=2.0)
    # the same voxels on permuted axes with permuted spacings: the metrics are equal (1e-12:
    # only the order of floating-point sums differs)
    for field in ("dice", "iou", "hd95", "hausdorff", "assd", "surface_dice"):
        assert getattr(got, field) == pytest.approx(getattr(want, field), rel=1e-12, abs=1e-12), field
    assert got.dice > 0.5


def test_a_fractional_dicom_seg_is_refused_with_the_case_named(tmp_path: Path) -> None:
    ref, zooms = _nifti("SEG-003_ref.nii.gz")
    _write_seg(ref, zooms, tmp_path / "ref.dcm")
    _write_seg(ref, zooms, tmp_path / "pred.dcm", kind="FRACTIONAL")
    pair = MaskPair(case_id="SEG-003", label=1, annotator_id="R1", reference=tmp_path / "ref.dcm",
                    prediction=tmp_path / "pred.dcm", spacing=None, row=1)
    with pytest.raises(DataError) as exc:
        list(load_pairs([pair]))
    assert exc.value.problems == [
        "case 'SEG-003' label 1: cannot read the prediction mask 'pred.dcm': segmentation type FRACTIONAL; "
        "only BINARY masks are read (a FRACTIONAL one is a probability map)"]
