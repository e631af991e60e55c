"""PHI scan of DICOM headers: are the test images de-identified?

Test images leave the clinical sites only de-identified (HIPAA Safe Harbor, 45 CFR
164.514(b)(2); DICOM PS3.15 Annex E, Basic Application Level Confidentiality Profile). The scan
reads each DICOM header (not the pixels) and flags attributes that the profile removes or
blanks and that hold a value here:

* names: Patient's Name, Other Patient Names, Patient's Mother's Birth Name, Referring,
  Performing and Reading Physicians, Operators;
* dates of birth: Patient's Birth Date and Time;
* identifiers: Other Patient IDs, Medical Record Locator, Accession Number, Patient's Telephone
  Numbers, Patient's Address; Patient ID unless it equals the case's pseudonymous
  ``patient_id`` from the manifest;
* institution: Institution Name and Address, Institutional Department Name, Station Name;
* free text: Image, Patient and Study Comments, Additional Patient History, Derivation
  Description;
* Burned In Annotation = YES (the pixels carry text);
* private attributes (odd group numbers, including the private creators): the basic profile
  removes them all unless the "Retain Private Tags" option is applied, since vendors store
  names, identifiers and free text in them. Each is named by its tag, e.g. ``private
  (0009,1001)``, and counted under ``private``.

Values are never copied into a message or a file: findings name the case, the file and the
attribute keywords only. The protocol's policy decides what a finding does: ``refuse`` raises
:class:`~validation.errors.DataError` listing every flagged image, ``warn`` emits
:class:`PhiWarning` and the run continues; the counts go into the results either way.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from validation.errors import DataError, InputError

PHI_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "name": (
        "PatientName",
        "OtherPatientNames",
        "PatientMotherBirthName",
        "ReferringPhysicianName",
        "PerformingPhysicianName",
        "NameOfPhysiciansReadingStudy",
        "OperatorsName",
    ),
    "birth_date": ("PatientBirthDate", "PatientBirthTime"),
    "identifier": (
        "OtherPatientIDs",
        "OtherPatientIDsSequence",
        "MedicalRecordLocator",
        "AccessionNumber",
        "PatientTelephoneNumbers",
        "PatientAddress",
    ),
    "institution": (
        "InstitutionName",
        "InstitutionAddress",
        "InstitutionalDepartmentName",
        "StationName",
    ),
    "free_text": (
        "ImageComments",
        "PatientComments",
        "StudyComments",
        "AdditionalPatientHistory",
        "DerivationDescription",
    ),
}
POLICIES = ("refuse", "warn")


class PhiWarning(UserWarning):
    """Test images carry identifying DICOM attributes (policy ``warn``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PhiFinding:
    """One image with identifying attributes (keywords only, never the values)."""

    case_id: str
    image: str
    attributes: tuple[str, ...]
    categories: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PhiReport:
    """Result of a scan: how many DICOM headers were read and which were flagged."""

    policy: str
    scanned: int
    flagged: int
    by_category: dict[str, int] = field(default_factory=dict)
    findings: tuple[PhiFinding, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "dicom_scanned": self.scanned,
            "flagged": self.flagged,
            "by_category": dict(sorted(self.by_category.items())),
            "flagged_cases": [
                {"case_id": f.case_id, "image": f.image, "attributes": list(f.attributes)}
                for f in self.findings
            ],
        }


def _has_value(ds: Any, keyword: str) -> bool:
    if keyword not in ds:
        return False
    value = ds[keyword].value
    if value is None:
        return False
    if isinstance(value, bytes):
        return bool(value.strip(b" \x00"))
    if isinstance(value, str):
        return bool(value.strip(" \x00"))
    if hasattr(value, "__len__"):
        return len(value) > 0
    return bool(str(value).strip())


def _private_tags(ds: Any) -> list[str]:
    """``private (gggg,eeee)`` of every private element holding a value, nested ones too."""
    out: list[str] = []

    def has_value(value: Any) -> bool:
        if value is None:
            return False
        if isinstance(value, bytes):
            return bool(value.strip(b" \x00"))
        if isinstance(value, str):
            return bool(value.strip(" \x00"))
        if hasattr(value, "__len__"):
            return len(value) > 0
        return bool(str(value).strip())

    def walk(dataset: Any) -> None:
        for elem in dataset:
            if elem.VR == "SQ":
                for item in elem.value or ():
                    walk(item)
            if elem.tag.is_private and has_value(elem.value):
                out.append(f"private ({elem.tag.group:04X},{elem.tag.element:04X})")

    walk(ds)
    return sorted(set(out))


def scan_header(
    data: bytes, *, patient_id: str | None = None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Identifying attributes present in one DICOM header: (keywords, categories).

    Pixel data is not read. Raises whatever pydicom raises for an unreadable file (the caller
    reports it as a corrupt image).
    """
    import pydicom

    ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
    found: list[str] = []
    cats: list[str] = []
    for category, keywords in PHI_ATTRIBUTES.items():
        hit = [k for k in keywords if _has_value(ds, k)]
        if hit:
            found.extend(hit)
            cats.append(category)
    if _has_value(ds, "PatientID"):
        pid = str(ds.PatientID).strip()
        if patient_id is None or pid != str(patient_id):
            found.append("PatientID")
            if "identifier" not in cats:
                cats.append("identifier")
    private = _private_tags(ds)
    if private:
        found.extend(private)
        cats.append("private")
    if str(ds.get("BurnedInAnnotation", "")).strip().upper() == "YES":
        found.append("BurnedInAnnotation")
        cats.append("burned_in_text")
    return tuple(found), tuple(cats)


def check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise InputError(f"'phi_policy' must be one of {', '.join(POLICIES)}; got {policy!r}.")
    return policy


def scan_images(
    items: Iterable[tuple[str, Path, str | None]], *, policy: str = "refuse"
) -> PhiReport:
    """Scan the DICOM headers of ``(case_id, path, patient_id)`` items and apply the policy.

    Non-DICOM files are skipped (PNG and NumPy files have no header to scan). A DICOM file that
    cannot be read is left to the image reader, which reports it with its case.

    Raises
    ------
    DataError
        Policy ``refuse`` and at least one flagged image (all of them are listed).
    """
    from pydicom.errors import InvalidDicomError

    check_policy(policy)
    scanned = 0
    findings: list[PhiFinding] = []
    counts: dict[str, int] = {}
    for case_id, path, patient_id in items:
        p = Path(path)
        if p.suffix.lower() not in (".dcm", ".dicom"):
            continue
        try:
            data = p.read_bytes()
            attrs, cats = scan_header(data, patient_id=patient_id)
        except (OSError, InvalidDicomError, ValueError, EOFError, KeyError, TypeError):
            continue
        scanned += 1
        if attrs:
            findings.append(
                PhiFinding(case_id=str(case_id), image=p.name, attributes=attrs, categories=cats)
            )
            for c in cats:
                counts[c] = counts.get(c, 0) + 1
    report = PhiReport(
        policy=policy,
        scanned=scanned,
        flagged=len(findings),
        by_category=counts,
        findings=tuple(findings),
    )
    if findings:
        lines = [f"case {f.case_id!r} ({f.image}): {', '.join(f.attributes)}" for f in findings]
        head = (
            f"{len(findings)} of {scanned} DICOM image(s) are not de-identified "
            "(identifying header attributes hold values; the values are not shown)"
        )
        if policy == "refuse":
            raise DataError(
                head + ". De-identify them (DICOM PS3.15 Annex E) or set the protocol's PHI "
                "policy to 'warn'.",
                problems=lines,
            )
        shown = "; ".join(lines[:5]) + ("; ..." if len(lines) > 5 else "")
        warnings.warn(f"{head}: {shown}", PhiWarning, stacklevel=2)
    return report
