"""Reading test images into model inputs, exactly as the model card specifies.

Three formats, chosen by file suffix:

* DICOM (``.dcm``, ``.dicom``): read with pydicom; stored values go through the modality LUT
  (Rescale Slope and Intercept, DICOM PS3.3 C.11.1) and then a linear VOI window (PS3.3
  C.11.2.1.2.1) to [0, 1]. The window comes from the card (``input.dicom_window``); without
  one, the file's own Window Center/Width is used; without either, the image is refused.
  MONOCHROME1 images are inverted so that a higher value is always brighter.
* PNG (``.png``): 8-bit values are divided by 255, 16-bit values by 65535.
* NumPy (``.npy``): arrays of shape (H, W) or (C, H, W), already on the [0, 1] intensity
  scale; loaded with ``allow_pickle=False``.

The [0, 1] intensity is then normalised, ``(x - mean) / std``, and returned as float32
(C, H, W). Images are never resized or converted between grey and colour: an image whose size
or channel count differs from the card is an error naming the case and the file.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from validation.errors import DataError
from validation.models.card import DicomWindow, InputSpec

DICOM_SUFFIXES = (".dcm", ".dicom")
FORMATS = {".dcm": "dicom", ".dicom": "dicom", ".png": "png", ".npy": "npy"}


def image_format(path: str | Path) -> str:
    """``dicom``, ``png`` or ``npy`` from the file suffix (case-insensitive)."""
    suffix = Path(path).suffix.lower()
    try:
        return FORMATS[suffix]
    except KeyError:
        raise DataError(
            f"Image '{path}' has an unsupported suffix {suffix!r}; "
            "use .dcm/.dicom (DICOM), .png or .npy."
        ) from None


def _where(name: str, case_id: str | None) -> str:
    return f"case {case_id!r}, image '{name}'" if case_id is not None else f"image '{name}'"


def window_linear(values: np.ndarray, center: float, width: float) -> np.ndarray:
    """DICOM linear VOI window to [0, 1] (PS3.3 C.11.2.1.2.1, with y_min = 0, y_max = 1).

    ``x <= c - 0.5 - (w - 1) / 2`` gives 0; ``x > c - 0.5 + (w - 1) / 2`` gives 1; otherwise
    ``((x - (c - 0.5)) / (w - 1) + 0.5)``.
    """
    x = np.asarray(values, dtype=np.float64)
    y = (x - (center - 0.5)) / (width - 1.0) + 0.5
    return np.clip(y, 0.0, 1.0)


def _read_dicom(data: bytes, where: str, window: DicomWindow | None) -> np.ndarray:
    import pydicom
    from pydicom.errors import InvalidDicomError
    from pydicom.pixels import apply_rescale

    try:
        ds = pydicom.dcmread(io.BytesIO(data))
    except InvalidDicomError as exc:
        raise DataError(f"{where} is not a valid DICOM file: {exc}.") from None
    except Exception as exc:  # truncated or garbled files raise many kinds of errors
        raise DataError(f"{where} is a corrupt DICOM file: {type(exc).__name__}: {exc}.") from None
    if "PixelData" not in ds:
        raise DataError(f"{where} is a DICOM file without pixel data.")
    try:
        stored = ds.pixel_array
    except Exception as exc:
        raise DataError(
            f"{where}: its DICOM pixel data cannot be decoded: {type(exc).__name__}: {exc}."
        ) from None
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2"))
    if photometric in ("MONOCHROME1", "MONOCHROME2"):
        values = apply_rescale(stored, ds)
        if window is not None:
            center, width = window.center, window.width
        elif "WindowCenter" in ds and "WindowWidth" in ds:
            center = float(np.atleast_1d(ds.WindowCenter)[0])
            width = float(np.atleast_1d(ds.WindowWidth)[0])
        else:
            raise DataError(
                f"{where}: no intensity window; give 'input.dicom_window' in the model card "
                "or store Window Center/Width in the DICOM header."
            )
        out = window_linear(values, center, width)
        if photometric == "MONOCHROME1":
            out = 1.0 - out
        return out
    if photometric == "RGB":
        bits = int(ds.get("BitsStored", 8))
        return np.asarray(stored, dtype=np.float64) / float(2**bits - 1)
    raise DataError(
        f"{where} has Photometric Interpretation {photometric!r}; "
        "supported: MONOCHROME1, MONOCHROME2, RGB."
    )


def _read_png(data: bytes, where: str) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            mode = im.mode
            arr = np.asarray(im)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"{where} is not a readable PNG: {exc}.") from None
    if mode in ("L", "RGB"):
        return arr.astype(np.float64) / 255.0
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        return arr.astype(np.float64) / 65535.0
    raise DataError(
        f"{where} has PNG mode {mode!r}; supported: 8-bit grey (L), 16-bit grey (I;16) and RGB."
    )


def _read_npy(data: bytes, where: str) -> np.ndarray:
    try:
        arr = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"{where} is not a readable .npy array: {exc}.") from None
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "fiub":
        raise DataError(
            f"{where} must hold a numeric array; got dtype {getattr(arr, 'dtype', '?')}."
        )
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise DataError(f"{where} contains NaN or infinite values.")
    if arr.ndim == 3:
        # (C, H, W) as stored; moved to (H, W, C) to share the shape check below.
        arr = np.moveaxis(arr, 0, -1)
    return arr


def decode_intensity(
    data: bytes, name: str, spec: InputSpec, *, case_id: str | None = None
) -> np.ndarray:
    """Decode image bytes into the [0, 1] intensity, float64 of shape (H, W, C), size-checked.

    This is the image "after loading and before the model's preprocessing": perturbations of
    a robustness analysis (:mod:`validation.models.perturb`) act here, and
    :func:`normalise` then gives the model input. Raises as :func:`decode_image`.
    """
    where = _where(name, case_id)
    fmt = image_format(name)
    if fmt not in spec.formats:
        raise DataError(f"{where}: the model card does not accept {fmt} input ({spec.formats}).")
    if fmt == "dicom":
        arr = _read_dicom(data, where, spec.dicom_window)
    elif fmt == "png":
        arr = _read_png(data, where)
    else:
        arr = _read_npy(data, where)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise DataError(f"{where} has {arr.ndim} dimensions; expected a 2-D image.")
    h, w, c = arr.shape
    if (h, w) != (spec.height, spec.width):
        raise DataError(
            f"{where} is {h}x{w} pixels (rows x columns); the model card requires "
            f"{spec.height}x{spec.width}. Images are never resized silently."
        )
    if c != spec.channels:
        raise DataError(f"{where} has {c} channel(s); the model card requires {spec.channels}.")
    return arr


def normalise(arr: np.ndarray, spec: InputSpec) -> np.ndarray:
    """The model's preprocessing: (H, W, C) [0, 1] intensity -> ``(x - mean) / std``, float32
    (C, H, W)."""
    norm = spec.normalization
    out = (np.moveaxis(arr, -1, 0) - norm.mean) / norm.std
    return np.ascontiguousarray(out, dtype=np.float32)


def decode_image(
    data: bytes, name: str, spec: InputSpec, *, case_id: str | None = None
) -> np.ndarray:
    """Decode image bytes into a normalised float32 model input of shape (C, H, W).

    Parameters
    ----------
    data : the file's bytes (the same bytes whose sha256 is recorded)
    name : the file name (its suffix selects the format; it is quoted in errors)
    spec : the model card's input section
    case_id : quoted in errors

    Raises
    ------
    DataError
        Corrupt or unreadable file, unsupported format, or a size or channel count that differs
        from the card. The message names the case and the file.
    """
    return normalise(decode_intensity(data, name, spec, case_id=case_id), spec)


def load_image(path: str | Path, spec: InputSpec, *, case_id: str | None = None) -> np.ndarray:
    """Read a file and :func:`decode_image` it (a missing file is a :class:`DataError`)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{_where(p.name, case_id)} does not exist (looked for '{p}').") from None
    return decode_image(data, p.name, spec, case_id=case_id)
