"""Model cards: the YAML sheet that travels with a locked artifact.

A card names the model and its version, the sites its training data came from, the input it
expects (size, channels, intensity window, normalisation), what its output means, and its
operating point. The suite reads it and checks it against the protocol before any inference:
the card and the protocol must agree on the artifact hash, the training sites and the
operating point, and no test site may be a training site (Mitchell et al. 2019,
doi:10.1145/3287560.3287596; CLAIM 2024 items on data partitions, doi:10.1148/ryai.240300).

Example
-------
.. code-block:: yaml

    name: demo-lesion-cnn
    version: "1.0.0"
    kind: torchscript
    artifact: demo_model.pt
    sha256: 0f3c...
    training_sites: [T1, T2]
    input: {height: 64, width: 64, channels: 1,
            normalization: {mean: 0.5, std: 0.25},
            dicom_window: {center: 0, width: 2000}}
    output: {meaning: probability that a lesion is present, positive_class: lesion present}
    operating_point: 0.5
    explain: {feature_module: features, head_module: head}
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from validation._yaml import safe_load
from validation.errors import LockedModelError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Normalization(_Strict):
    """``(x - mean) / std`` applied after the intensity is mapped to [0, 1]."""

    mean: float = 0.0
    std: float = Field(1.0, gt=0)


class DicomWindow(_Strict):
    """Linear VOI window (DICOM PS3.3 C.11.2.1.2) applied to the rescaled DICOM values."""

    center: float
    width: float = Field(gt=1)


class InputSpec(_Strict):
    """What one model input looks like: (channels, height, width) float32."""

    height: int = Field(gt=0)
    width: int = Field(gt=0)
    channels: Literal[1, 3] = 1
    normalization: Normalization = Field(default_factory=lambda: Normalization(mean=0.0, std=1.0))
    dicom_window: DicomWindow | None = None
    formats: tuple[Literal["dicom", "png", "npy"], ...] = ("dicom", "png", "npy")
    modality: str | None = Field(
        default=None, description="DICOM modality of the inputs (DX, CR, CT, MR, ...); optional.")
    bit_depth: Literal[8, 10, 12, 14, 16] | None = Field(
        default=None, description="Highest stored bit depth of the inputs; optional (JPEG "
        "perturbations need 8).")


class OutputSpec(_Strict):
    meaning: str
    positive_class: str
    range: tuple[float, float] = (0.0, 1.0)


class ExplainSpec(_Strict):
    """Grad-CAM split: ``model(x) == head(features(x))`` with the named submodules."""

    feature_module: str
    head_module: str


class ModelCard(_Strict):
    """A model card (YAML) as read by :func:`load_card`."""

    name: str
    version: str
    kind: Literal["torchscript", "torch_export", "onnx", "precomputed"]
    artifact: str
    sha256: str
    training_sites: tuple[str, ...] = Field(min_length=1)
    input: InputSpec | None = None
    output: OutputSpec
    operating_point: float
    description: str = ""
    intended_use: str = ""
    explain: ExplainSpec | None = None

    @field_validator("sha256")
    @classmethod
    def _hex(cls, v: str) -> str:
        if len(v) != 64 or any(c not in "0123456789abcdef" for c in v):
            raise ValueError("must be 64 lower-case hexadecimal digits")
        return v

    @field_validator("training_sites", mode="before")
    @classmethod
    def _sites_as_text(cls, v: Any) -> Any:
        if isinstance(v, list | tuple):
            return tuple(str(s) for s in v)
        return v

    @field_validator("operating_point")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v


def load_card(path: str | os.PathLike[str]) -> ModelCard:
    """Read and validate a model card; every problem is listed with its field path.

    Raises
    ------
    LockedModelError
        Missing file, malformed YAML or a field that violates the card format.
    """
    p = Path(path)
    try:
        raw = safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LockedModelError(f"Model card '{p}' does not exist.") from None
    except yaml.YAMLError as exc:
        raise LockedModelError(f"Model card '{p}' is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise LockedModelError(
            f"Model card '{p}' must be a YAML mapping; got {type(raw).__name__}."
        )
    try:
        return ModelCard.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
            lines.append(f"  - {loc}: {err['msg']}")
        raise LockedModelError(f"Model card '{p}' is invalid:\n" + "\n".join(lines)) from None


def check_card(
    card: ModelCard,
    *,
    card_path: str | os.PathLike[str],
    kind: str,
    sha256: str,
    training_sites: Iterable[Any],
    operating_point: float,
    test_sites: Iterable[Any] = (),
) -> None:
    """Check a card against the protocol's model section and the test sites.

    Every disagreement is collected and reported at once.

    Raises
    ------
    LockedModelError
        The card's kind, hash, training sites or operating point differ from the protocol's,
        or a test site is one of the training sites (the test set would not be external).
    """
    problems: list[str] = []
    name = Path(card_path).name
    if card.kind != kind:
        problems.append(f"kind: card says {card.kind!r}, protocol says {kind!r}")
    if card.sha256 != sha256:
        problems.append(f"sha256: card says {card.sha256}, protocol says {sha256}")
    card_sites = {str(s) for s in card.training_sites}
    proto_sites = {str(s) for s in training_sites}
    if card_sites != proto_sites:
        problems.append(
            f"training_sites: card says {sorted(card_sites)}, protocol says {sorted(proto_sites)}"
        )
    if not math.isclose(card.operating_point, float(operating_point), rel_tol=0.0, abs_tol=0.0):
        problems.append(
            f"operating_point: card says {card.operating_point!r}, "
            f"protocol says {operating_point!r}"
        )
    lo, hi = card.output.range
    if not lo <= float(operating_point) <= hi:
        problems.append(
            f"operating_point: {operating_point!r} lies outside the score range [{lo:g}, {hi:g}] "
            f"the card declares for its output ({card.output.meaning}), so every case would be "
            "called the same; give a threshold inside the range"
        )
    overlap = sorted(card_sites.union(proto_sites).intersection(str(s) for s in test_sites))
    if overlap:
        problems.append(
            f"test sites {overlap} are training sites of the model; the test set must be external "
            "(sequestered sites the model never saw)"
        )
    if problems:
        raise LockedModelError(
            f"Model card '{name}' does not agree with the protocol:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
