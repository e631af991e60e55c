"""Locked artifacts: hashing, refusal on mismatch, loading each kind."""

from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from validation.errors import InputError, LockedModelError
from validation.models.artifact import (
    check_sha256_text,
    file_sha256,
    load_locked_model,
    load_model_bytes,
    verify_sha256,
)

ASSET = Path(__file__).resolve().parents[2] / "validation" / "assets" / "demo_model"


def test_shipped_demo_model_hash_matches_card_and_sidecar(demo_card) -> None:
    data = (ASSET / "demo_model.pt").read_bytes()
    sidecar = (ASSET / "demo_model.pt.sha256").read_text().split()[0]
    assert hashlib.sha256(data).hexdigest() == sidecar == demo_card.sha256
    assert len(data) < 1_000_000  # "well under 1 MB"


def test_file_sha256_equals_hashlib_for_multi_chunk_file(tmp_path: Path) -> None:
    data = np.random.default_rng(1).bytes(3 * (1 << 20) + 17)  # spans several 1 MiB chunks
    p = tmp_path / "blob.bin"
    p.write_bytes(data)
    assert file_sha256(p) == hashlib.sha256(data).hexdigest()


def test_hash_mismatch_refuses_and_shows_both_hashes(tmp_path: Path, demo_card) -> None:
    p = tmp_path / "demo_model.pt"
    data = bytearray((ASSET / "demo_model.pt").read_bytes())
    data[-100] ^= 0xFF  # one flipped byte
    p.write_bytes(bytes(data))
    actual = hashlib.sha256(bytes(data)).hexdigest()
    with pytest.raises(LockedModelError) as err:
        load_locked_model(p, "torchscript", demo_card.sha256)
    msg = str(err.value)
    assert demo_card.sha256 in msg and actual in msg and "demo_model.pt" in msg
    with pytest.raises(LockedModelError, match="does not match its locked hash"):
        verify_sha256(p, demo_card.sha256)


def test_model_file_that_does_not_load_names_the_file(tmp_path: Path) -> None:
    p = tmp_path / "broken_model.pt"
    p.write_bytes(b"this is not a TorchScript archive")
    sha = hashlib.sha256(p.read_bytes()).hexdigest()
    for kind in ("torchscript", "torch_export", "onnx"):
        with pytest.raises(LockedModelError, match="broken_model.pt.*does not load"):
            load_locked_model(p, kind, sha)


def test_missing_artifact_and_bad_hash_text(tmp_path: Path) -> None:
    with pytest.raises(LockedModelError, match="does not exist"):
        load_locked_model(tmp_path / "nope.pt", "torchscript", "0" * 64)
    with pytest.raises(InputError, match="'sha256' must be 64 lower-case"):
        check_sha256_text("ABC")
    with pytest.raises(InputError, match="'kind' must be one of"):
        load_locked_model(tmp_path / "nope.pt", "pickle", "0" * 64)


class _Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(3)
        self.conv = nn.Conv2d(1, 2, 3, padding=1)
        self.fc = nn.Linear(2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.fc(self.conv(x).mean(dim=(2, 3)))).flatten()


def test_torch_export_archive_gives_the_eager_scores(tmp_path: Path) -> None:
    model = _Tiny().eval()
    x = torch.linspace(-1, 1, 5 * 8 * 8).reshape(5, 1, 8, 8)
    batch = torch.export.Dim("batch", min=1, max=1024)
    program = torch.export.export(model, (x,), dynamic_shapes=({0: batch},))
    p = tmp_path / "tiny.pt2"
    torch.export.save(program, p)
    locked = load_locked_model(p, "torch_export", file_sha256(p))
    with torch.inference_mode():
        expected = model(x).numpy().astype(np.float64)
    got = locked.predict(x.numpy())
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=0)  # same graph, same kernels


def _onnx_mean_sigmoid() -> bytes:
    """ONNX graph: score = sigmoid(mean of all pixels), built with onnx.helper (no exporter)."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 1, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1])
    axes = helper.make_tensor("axes", TensorProto.INT64, [3], [1, 2, 3])
    nodes = [
        helper.make_node("ReduceMean", ["x", "axes"], ["m"], keepdims=0),
        helper.make_node("Unsqueeze", ["m", "one"], ["m1"]),
        helper.make_node("Sigmoid", ["m1"], ["y"]),
    ]
    one = helper.make_tensor("one", TensorProto.INT64, [1], [1])
    graph = helper.make_graph(nodes, "mean_sigmoid", [x], [y], initializer=[axes, one])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    return model.SerializeToString()


def test_onnx_model_scores_match_numpy(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    data = _onnx_mean_sigmoid()
    p = tmp_path / "mean.onnx"
    p.write_bytes(data)
    locked = load_locked_model(p, "onnx", hashlib.sha256(data).hexdigest())
    x = np.random.default_rng(2).normal(size=(6, 1, 4, 4)).astype(np.float32)
    expected = 1 / (1 + np.exp(-x.astype(np.float64).mean(axis=(1, 2, 3))))
    np.testing.assert_allclose(locked.predict(x), expected, rtol=1e-6)  # float32 arithmetic


def test_load_model_bytes_rechecks_the_hash() -> None:
    data = (ASSET / "demo_model.pt").read_bytes()
    with pytest.raises(LockedModelError, match="does not match its locked hash"):
        load_model_bytes("torchscript", data + b"x", hashlib.sha256(data).hexdigest())


def test_wrong_output_shape_is_refused(tmp_path: Path) -> None:
    class TwoOut(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.mean(dim=(2, 3)).repeat(1, 2)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        buf = io.BytesIO()
        torch.jit.save(torch.jit.script(TwoOut()), buf)
    data = buf.getvalue()
    locked = load_model_bytes("torchscript", data, hashlib.sha256(data).hexdigest(), name="two.pt")
    with pytest.raises(LockedModelError, match=r"shape \(3, 2\).*one score per case"):
        locked.predict(np.zeros((3, 1, 4, 4), np.float32))
