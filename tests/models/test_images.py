"""Image reading: DICOM modality LUT and VOI window, PNG, NumPy; refusals name case and file."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pydicom import dcmread
from pydicom.pixels import apply_rescale, apply_windowing

from validation.demo_images import to_dicom_bytes, to_png_bytes
from validation.errors import DataError
from validation.models.card import DicomWindow, InputSpec, Normalization
from validation.models.images import decode_image, load_image, window_linear

SPEC = InputSpec(height=8, width=8, channels=1)


def _dicom(values: np.ndarray, **attrs) -> bytes:
    """A 16-bit MONOCHROME2 DICOM of stored ``values`` with extra header attributes."""
    img = np.zeros((8, 8))
    data = to_dicom_bytes(
        img if values.shape != (8, 8) else img,
        case_id="c",
        patient_id="p",
        manufacturer="m",
        sex="F",
        seed=0,
    )
    ds = dcmread(io.BytesIO(data))
    ds.Rows, ds.Columns = values.shape
    ds.PixelData = values.astype(np.uint16).tobytes()
    for k, v in attrs.items():
        setattr(ds, k, v)
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def test_dicom_rescale_and_window_agree_with_pydicom() -> None:
    """Independent implementation: pydicom's apply_rescale + apply_windowing (linear). With a
    modality LUT, pydicom's output spans the rescaled range of the stored bits,
    [intercept, (2**16 - 1) * slope + intercept]; ours spans [0, 1] (PS3.3 C.11.2.1.2.1)."""
    stored = np.arange(64, dtype=np.uint16).reshape(8, 8) * 60
    data = _dicom(
        stored,
        RescaleSlope="2",
        RescaleIntercept="-1000",
        WindowCenter="800",
        WindowWidth="3000",
        BitsStored=16,
        HighBit=15,
    )
    ds = dcmread(io.BytesIO(data))
    ref = apply_windowing(apply_rescale(ds.pixel_array, ds), ds)
    ymin, ymax = -1000.0, (2**16 - 1) * 2.0 - 1000.0
    got = decode_image(data, "x.dcm", SPEC)[0]
    np.testing.assert_allclose(got, (ref - ymin) / (ymax - ymin), rtol=0, atol=1e-6)  # float32
    assert got.min() == 0.0 and got.max() == 1.0  # both ends of the window are reached


def test_card_window_overrides_the_header_and_monochrome1_inverts() -> None:
    stored = np.full((8, 8), 1500, dtype=np.uint16)
    data = _dicom(
        stored, RescaleSlope="1", RescaleIntercept="0", WindowCenter="0", WindowWidth="10"
    )
    spec = InputSpec(height=8, width=8, dicom_window=DicomWindow(center=1000.5, width=2001))
    got = decode_image(data, "x.dcm", spec)[0, 0, 0]
    assert got == pytest.approx((1500 - 1000) / 2000 + 0.5, abs=1e-6)
    inv = _dicom(
        stored, RescaleSlope="1", RescaleIntercept="0", PhotometricInterpretation="MONOCHROME1"
    )
    assert decode_image(inv, "x.dcm", spec)[0, 0, 0] == pytest.approx(1 - got, abs=1e-6)


def test_demo_dicom_and_png_of_one_image_decode_to_the_same_intensity() -> None:
    img = np.random.default_rng(0).uniform(size=(8, 8))
    spec = InputSpec(
        height=8,
        width=8,
        dicom_window=DicomWindow(center=0.5, width=2001),
        normalization=Normalization(mean=0.5, std=0.25),
    )
    d = decode_image(
        to_dicom_bytes(img, case_id="a", patient_id="p", manufacturer="m", sex="M", seed=1),
        "a.dcm",
        spec,
    )
    p = decode_image(to_png_bytes(img), "a.png", spec)
    back = lambda z: z[0] * 0.25 + 0.5  # noqa: E731
    np.testing.assert_allclose(back(d), img, atol=0.5 / 2000 + 1e-6)  # DICOM grid: 2000 steps
    np.testing.assert_allclose(back(p), img, atol=0.5 / 255 + 1e-6)  # 8-bit PNG rounding


def test_png_16_bit_and_npy(tmp_path: Path) -> None:
    arr16 = (np.arange(64).reshape(8, 8) * 1000).astype(np.uint16)
    buf = io.BytesIO()
    Image.fromarray(arr16).save(buf, format="PNG")
    np.testing.assert_allclose(
        decode_image(buf.getvalue(), "a.png", SPEC)[0], arr16 / 65535, atol=1e-7
    )
    x = np.random.default_rng(1).uniform(size=(1, 8, 8))
    buf = io.BytesIO()
    np.save(buf, x)
    np.testing.assert_allclose(decode_image(buf.getvalue(), "a.npy", SPEC), x, atol=1e-7)


def test_corrupt_dicom_names_case_and_file() -> None:
    good = _dicom(np.zeros((8, 8)))
    for bad in (b"garbage" * 10, good[: len(good) // 2]):
        with pytest.raises(DataError, match=r"case 'C7', image 'scan.dcm'"):
            decode_image(bad, "scan.dcm", SPEC, case_id="C7")


def test_wrong_size_and_wrong_channels_are_refused_not_resized() -> None:
    big = to_png_bytes(np.zeros((10, 8)))
    with pytest.raises(DataError, match=r"case 'C1', image 'a.png' is 10x8 .* requires 8x8"):
        decode_image(big, "a.png", SPEC, case_id="C1")
    buf = io.BytesIO()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8), mode="RGB").save(buf, format="PNG")
    with pytest.raises(DataError, match=r"image 'rgb.png' has 3 channel\(s\); .* requires 1"):
        decode_image(buf.getvalue(), "rgb.png", SPEC)
    buf = io.BytesIO()
    Image.fromarray(np.zeros((8, 8, 4), np.uint8), mode="RGBA").save(buf, format="PNG")
    with pytest.raises(DataError, match="PNG mode 'RGBA'"):
        decode_image(buf.getvalue(), "rgba.png", SPEC)


def test_missing_file_nan_array_and_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"case 'C2', image 'gone.png' does not exist"):
        load_image(tmp_path / "gone.png", SPEC, case_id="C2")
    buf = io.BytesIO()
    np.save(buf, np.full((8, 8), np.nan))
    with pytest.raises(DataError, match="NaN or infinite"):
        decode_image(buf.getvalue(), "n.npy", SPEC)
    with pytest.raises(DataError, match="unsupported suffix '.jpg'"):
        decode_image(b"", "a.jpg", SPEC)


@settings(max_examples=60, deadline=None)
@given(
    center=st.floats(-2000, 2000),
    width=st.floats(2, 5000),
    x=st.lists(st.floats(-5000, 5000), min_size=2, max_size=20),
)
def test_window_is_monotone_bounded_and_equals_pydicom_formula(center, width, x) -> None:
    xs = np.sort(np.asarray(x))
    y = window_linear(xs, center, width)
    assert np.all((y >= 0) & (y <= 1)) and np.all(np.diff(y) >= 0)
    lo, hi = center - 0.5 - (width - 1) / 2, center - 0.5 + (width - 1) / 2
    inside = (xs > lo) & (xs <= hi)
    np.testing.assert_allclose(y[xs <= lo], 0.0)
    np.testing.assert_allclose(y[xs > hi], 1.0)
    np.testing.assert_allclose(
        y[inside], (xs[inside] - (center - 0.5)) / (width - 1) + 0.5, rtol=1e-12
    )
