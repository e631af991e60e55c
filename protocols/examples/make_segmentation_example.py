"""Write the synthetic data behind protocols/segmentation_example.yaml (seeded, byte-identical on rerun).

    python3 protocols/examples/make_segmentation_example.py

``segmentation/``: a liver-and-lesion segmentation device on 38 CT cases of 30 patients from
four external sites. Each case has a reference mask and the device's mask (NIfTI, gzip with a
zero timestamp so the bytes do not depend on the time of writing; label 1 = organ, label 2 =
lesion), the organ volume measured by the device and by a reference reader, and a lesion grade
(1-4) read by three radiologists. One case has no lesion in either mask (both empty for label
2) and the device misses the lesion of another (prediction empty). Every value is simulated.

After writing, the ``sha256`` of ``model.artifact`` (the device's lesion scores) is updated in
the protocol YAML, so the example checks, locks and runs.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
OUT = HERE / "segmentation"
PROTOCOL = HERE.parent / "segmentation_example.yaml"
SEED = 20261204
SHAPE = (32, 32, 16)
SPACING = (1.0, 1.0, 2.5)
SITES = (("EXT-A", 9), ("EXT-B", 8), ("EXT-C", 7), ("EXT-D", 6))  # site, patients


def _ellipsoid(centre: np.ndarray, radii: np.ndarray) -> np.ndarray:
    g = np.indices(SHAPE).astype(float)
    return (((g - centre[:, None, None, None]) / radii[:, None, None, None]) ** 2).sum(axis=0) <= 1.0


def _nifti_bytes(labels: np.ndarray) -> bytes:
    img = nib.Nifti1Image(labels.astype(np.uint8), affine=np.diag([*SPACING, 1.0]))
    img.header.set_zooms(SPACING)
    img.header.set_xyzt_units("mm")
    return gzip.compress(img.to_bytes(), compresslevel=9, mtime=0)


def _write(path: Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def _csv(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False, lineterminator="\n", float_format="%.4f").encode("utf-8")


def build(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """Write the masks; return the manifest, predictions, mask index and measurements."""
    rng = np.random.default_rng(seed)
    manifest, preds, index, meas = [], [], [], []
    voxel_ml = float(np.prod(SPACING)) / 1000.0
    n = 0
    for s, (site, patients) in enumerate(SITES):
        for p in range(patients):
            pid = f"SP{s + 1}{p + 1:03d}"
            sex = "F" if rng.random() < 0.5 else "M"
            age = round(float(np.clip(rng.normal(61, 12), 25, 90)), 1)
            for _ in range(2 if p < 2 else 1):  # the first two patients of a site: two scans
                n += 1
                case = f"SEG-{n:03d}"
                centre = np.array([16, 16, 8]) + rng.normal(0, 1.0, 3)
                radii = np.array([10, 9, 5.5]) * rng.uniform(0.8, 1.15)
                ref = _ellipsoid(centre, radii).astype(np.uint8)
                lesion = n != 7  # case 7: no lesion (both masks empty for label 2)
                l_centre = centre + np.array([3, -2, 0]) + rng.normal(0, 0.8, 3)
                l_radii = np.array([3.0, 3.0, 1.6]) * rng.uniform(0.7, 1.3)
                if lesion:
                    ref[_ellipsoid(l_centre, l_radii)] = 2
                # the device: organ shifted and rescaled a little, a worse site (EXT-D)
                err = 1.6 if site == "EXT-D" else 0.7
                pred = _ellipsoid(centre + rng.normal(0, err, 3) * [1, 1, 0.4],
                                  radii * rng.uniform(0.93, 1.07, 3)).astype(np.uint8)
                missed = n == 12  # the device misses this lesion
                if lesion and not missed:
                    pred[_ellipsoid(l_centre + rng.normal(0, 0.6, 3), l_radii * rng.uniform(0.85, 1.15))] = 2
                _write(OUT / "masks" / f"{case}_ref.nii.gz", _nifti_bytes(ref))
                _write(OUT / "masks" / f"{case}_pred.nii.gz", _nifti_bytes(pred))
                for label in (1, 2):
                    index.append({"case_id": case, "annotator_id": "RAD1", "label": label,
                                  "mask": f"masks/{case}_ref.nii.gz", "prediction": f"masks/{case}_pred.nii.gz"})
                manifest.append({"case_id": case, "patient_id": pid, "site": site, "truth": int(lesion),
                                 "sex": sex, "age": age})
                score = 0.75 + 0.2 * rng.random() if lesion and not missed else 0.35 * rng.random()
                preds.append({"case_id": case, "score": round(score, 4)})
                organ_ref = float((ref >= 1).sum()) * voxel_ml
                organ_dev = float((pred >= 1).sum()) * voxel_ml
                size = float((ref == 2).sum())
                grade = int(np.clip(np.digitize(size + rng.normal(0, 15), [1, 40, 90, 150]), 1, 4))
                grades = [int(np.clip(grade + (rng.random() < 0.25) * rng.choice([-1, 1]), 1, 4))
                          for _ in range(3)]
                meas.append({"case_id": case, "organ_volume_device": round(organ_dev, 4),
                             "organ_volume_reference": round(organ_ref + rng.normal(0, 0.4), 4),
                             "grade_r1": grades[0], "grade_r2": grades[1], "grade_r3": grades[2]})
    return {"manifest": pd.DataFrame(manifest), "predictions": pd.DataFrame(preds),
            "masks_index": pd.DataFrame(index), "measurements": pd.DataFrame(meas)}


def main() -> None:
    tables = build()
    for name, df in tables.items():
        sha = _write(OUT / f"{name}.csv", _csv(df))
        if name == "predictions":
            text = PROTOCOL.read_text(encoding="utf-8")
            new, k = re.subn(r'(?m)^(  sha256: )"?[0-9a-f]{64}"?$', rf'\g<1>"{sha}"', text)
            if k != 1:
                raise SystemExit(f"{PROTOCOL}: expected one model sha256 line, found {k}")
            PROTOCOL.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main()
