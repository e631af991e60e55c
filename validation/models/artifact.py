"""Locked model artifacts: a file plus the sha256 the protocol recorded for it.

A locked model is evaluated bit for bit as it will be marketed, so the file is hashed before it
is loaded and a mismatch refuses to run, showing both hashes. Supported kinds:

``torchscript``
    A ``torch.jit.save`` archive (``.pt``). TorchScript is deprecated in torch 2.13 but is still
    the most common deployment format; its deprecation warning is silenced at load time only.
``torch_export``
    A ``torch.export.save`` archive (``.pt2``).
``onnx``
    An ONNX graph run with onnxruntime on the CPU provider (optional extra ``[onnx]``).
``precomputed``
    Predictions computed elsewhere (CSV or Parquet); hashed like a model and read by
    :func:`validation.models.predictions.read_precomputed`.

Every kind exposes the same call: a float32 array of shape (n, C, H, W) in, scores of shape (n,)
out (one score per case, higher meaning more likely positive).
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from validation.errors import InputError, LockedModelError
from validation.provenance.hashing import (  # noqa: F401  (re-exported)
    hash_mismatch_message,
    sha256_bytes,
    sha256_file,
)

MODEL_KINDS: tuple[str, ...] = ("torchscript", "torch_export", "onnx", "precomputed")
IMAGE_MODEL_KINDS: tuple[str, ...] = ("torchscript", "torch_export", "onnx")
TORCH_KINDS: tuple[str, ...] = ("torchscript", "torch_export")



def file_sha256(path: str | os.PathLike[str]) -> str:
    """Lower-case hex SHA-256 of a file (:func:`validation.provenance.hashing.sha256_file`).

    Raises
    ------
    LockedModelError
        When the file does not exist or cannot be read (the message names it).
    """
    p = Path(path)
    if not p.is_file():
        from validation.preflight import why_not_a_file

        raise LockedModelError(f"Model artifact '{p}' {why_not_a_file(p)}.")
    try:
        return sha256_file(p)
    except OSError as exc:
        raise LockedModelError(f"Model artifact '{p}' cannot be read: {exc}.") from None


def check_sha256_text(value: Any, name: str = "sha256") -> str:
    """Return ``value`` if it is 64 lower-case hex digits, else raise :class:`InputError`."""
    text = str(value) if value is not None else ""
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise InputError(
            f"'{name}' must be 64 lower-case hexadecimal digits (a SHA-256); got {value!r}. "
            "Compute it with `validation model hash FILE`."
        )
    return text


def verify_sha256(
    path: str | os.PathLike[str], expected: str, *, what: str = "Model artifact"
) -> str:
    """Hash ``path`` and compare with ``expected``; return the hash or raise with both hashes.

    Raises
    ------
    LockedModelError
        On a mismatch (showing the locked and the actual hash) or an unreadable file.
    """
    p = Path(path)
    want = check_sha256_text(expected)
    got = file_sha256(p)
    if got != want:
        raise LockedModelError(hash_mismatch_message(p, want, got, what))
    return got


@dataclass(frozen=True, slots=True, kw_only=True)
class LockedModel:
    """A hash-verified, loaded model.

    ``runner`` maps a float32 array (n, C, H, W) to a float64 score array (n,). ``module`` is
    the underlying torch module for the torch kinds (used by Grad-CAM), else ``None``.
    """

    kind: str
    path: Path
    sha256: str
    runner: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    module: Any = field(default=None, repr=False)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """Scores of one batch (n, C, H, W) -> (n,) float64."""
        return self.runner(batch)


def _as_scores(out: Any, n: int, path: Path) -> np.ndarray:
    arr = np.asarray(out, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.shape != (n,):
        raise LockedModelError(
            f"Model '{path.name}' returned output of shape {tuple(arr.shape)} for a batch of {n}; "
            "a locked binary classifier must return one score per case, shape (n,) or (n, 1)."
        )
    return arr


def _torch_runner(module: Any, path: Path) -> Callable[[np.ndarray], np.ndarray]:
    import torch

    def run(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            out = module(torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)))
        return _as_scores(out.detach().cpu().numpy(), batch.shape[0], path)

    return run


def load_torchscript_bytes(data: bytes) -> Any:
    """``torch.jit.load`` from bytes (CPU), silencing only torch's TorchScript deprecation."""
    import torch

    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r".*torch\.jit.*deprecated", category=DeprecationWarning
        )
        module = torch.jit.load(io.BytesIO(data), map_location="cpu")
    module.eval()
    return module


_KIND_WORDS = {
    "torchscript": "a TorchScript archive (torch.jit.save)",
    "torch_export": "a torch.export archive (.pt2, torch.export.save)",
    "onnx": "an ONNX graph",
    "torch_checkpoint": "a torch.save checkpoint (weights or a pickled module, not a locked model)",
}


def sniff_model_kind(data: bytes) -> str | None:
    """The kind of model file ``data`` looks like, from its layout alone (nothing is loaded).

    ``torchscript``, ``torch_export``, ``onnx``, ``torch_checkpoint`` or ``None`` (unknown).
    """
    import zipfile

    if data[:4] == b"PK\x03\x04":
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        tails = {n.split("/", 1)[-1] for n in names}
        if "archive_format" in tails or any(t.startswith("models/") for t in tails):
            return "torch_export"
        if "constants.pkl" in tails and any(t.startswith("code/") for t in tails):
            return "torchscript"
        if "data.pkl" in tails:
            return "torch_checkpoint"
        return None
    if data[:1] == b"\x08":  # ONNX ModelProto: field 1 (ir_version), a varint
        return "onnx"
    return None


@contextlib.contextmanager
def _quiet_torch_logs() -> Any:
    """Silence torch's own logged tracebacks while a load is attempted (we raise one message)."""
    import logging

    loggers = [logging.getLogger(n) for n in ("torch", "torch.export", "torch._export")]
    saved = [(lg, lg.level, lg.propagate, lg.disabled) for lg in loggers]
    for lg in loggers:
        lg.disabled = True
    try:
        yield
    finally:
        for lg, level, propagate, disabled in saved:
            lg.setLevel(level)
            lg.propagate = propagate
            lg.disabled = disabled


def _check_kind_matches(kind: str, data: bytes, path: Path) -> None:
    looks = sniff_model_kind(data)
    if looks is not None and looks != kind:
        fix = (f"set model.kind: {looks} (and lock the protocol again)" if looks in MODEL_KINDS
               else "save the model with torch.jit.save or torch.export.save")
        raise LockedModelError(
            f"Model artifact '{path.name}' is declared as model.kind {kind!r} but looks like "
            f"{_KIND_WORDS[looks]}; {fix}."
        )


def _load_bytes(
    kind: str, data: bytes, path: Path
) -> tuple[Callable[[np.ndarray], np.ndarray], Any]:
    if kind in IMAGE_MODEL_KINDS:
        _check_kind_matches(kind, data, path)
        with _quiet_torch_logs():
            return _load_checked(kind, data, path)
    raise InputError(f"'kind' must be one of {', '.join(IMAGE_MODEL_KINDS)}; got {kind!r}.")


def _load_checked(
    kind: str, data: bytes, path: Path
) -> tuple[Callable[[np.ndarray], np.ndarray], Any]:
    if kind == "torchscript":
        try:
            module = load_torchscript_bytes(data)
        except Exception as exc:  # torch raises RuntimeError/ValueError with long C++ traces
            raise LockedModelError(
                f"Model artifact '{path.name}' does not load as TorchScript: "
                f"{_first_line(exc)}. Check 'model.kind' and that the file is a "
                "torch.jit.save archive."
            ) from None
        return _torch_runner(module, path), module
    if kind == "torch_export":
        import torch

        try:
            program = torch.export.load(io.BytesIO(data))
            module = program.module()
        except Exception as exc:
            raise LockedModelError(
                f"Model artifact '{path.name}' does not load as a torch.export archive (.pt2): "
                f"{_first_line(exc)}."
            ) from None
        return _torch_runner(module, path), module
    if kind == "onnx":
        try:
            import onnxruntime as ort
        except ImportError:
            raise LockedModelError(
                "ONNX models need onnxruntime: pip install 'imaging-validation[onnx]'."
            ) from None
        try:
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise LockedModelError(
                f"Model artifact '{path.name}' does not load as ONNX: {_first_line(exc)}."
            ) from None
        input_name = session.get_inputs()[0].name

        def run(batch: np.ndarray) -> np.ndarray:
            out = session.run(None, {input_name: np.ascontiguousarray(batch, dtype=np.float32)})
            return _as_scores(out[0], batch.shape[0], path)

        return run, None
    raise InputError(f"'kind' must be one of {', '.join(IMAGE_MODEL_KINDS)}; got {kind!r}.")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def load_model_bytes(
    kind: str, data: bytes, expected_sha256: str, *, name: str = "model"
) -> LockedModel:
    """Load a model from its bytes after checking them against ``expected_sha256``.

    Used by the Dask workers, which receive the locked bytes rather than a path.
    """
    want = check_sha256_text(expected_sha256)
    got = sha256_bytes(data)
    path = Path(name)
    if got != want:
        raise LockedModelError(hash_mismatch_message(path, want, got))
    runner, module = _load_bytes(kind, data, path)
    return LockedModel(kind=kind, path=path, sha256=got, runner=runner, module=module)


def load_locked_model(path: str | os.PathLike[str], kind: str, sha256: str) -> LockedModel:
    """Hash-verify and load a locked model artifact.

    The file is read once; the bytes that were hashed are the bytes that are loaded, so a file
    replaced between hashing and loading cannot slip through.

    Parameters
    ----------
    path : path of the artifact
    kind : one of ``torchscript``, ``torch_export``, ``onnx``
    sha256 : the locked hash from the protocol (64 lower-case hex digits)

    Returns
    -------
    LockedModel

    Raises
    ------
    LockedModelError
        Missing or unreadable file, hash mismatch (both hashes shown), or a file that does not
        load as the declared kind.
    """
    if kind not in IMAGE_MODEL_KINDS:
        raise InputError(
            f"'kind' must be one of {', '.join(IMAGE_MODEL_KINDS)} for an image model; "
            f"got {kind!r}."
        )
    p = Path(path)
    want = check_sha256_text(sha256)
    try:
        data = p.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        from validation.preflight import why_not_a_file

        raise LockedModelError(f"Model artifact '{p}' {why_not_a_file(p)}.") from None
    except OSError as exc:
        raise LockedModelError(f"Model artifact '{p}' cannot be read: {exc}.") from None
    got = sha256_bytes(data)
    if got != want:
        raise LockedModelError(hash_mismatch_message(p, want, got))
    runner, module = _load_bytes(kind, data, p)
    return LockedModel(kind=kind, path=p, sha256=got, runner=runner, module=module)
