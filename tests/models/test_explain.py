"""Grad-CAM error analysis: the CAM identity, seeded sampling, figures and the disclaimer."""

from __future__ import annotations

import hashlib
import io
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from validation.models import explain_errors
from validation.models.artifact import load_model_bytes
from validation.models.card import ModelCard
from validation.models.explain import DISCLAIMER, gradcam, select_errors


class _GapNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(5)
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU())
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.head(self.features(x))).flatten()


def test_gradcam_equals_cam_for_a_global_average_pooling_head() -> None:
    """Selvaraju et al. (2017), section 3.1: with global average pooling followed by a linear
    layer, Grad-CAM's weights are the layer's weights divided by the map size, so the
    normalised Grad-CAM equals the class activation map of Zhou et al. (2016,
    doi:10.1109/CVPR.2016.319), relu(sum_k w_k A_k) / max."""
    net = _GapNet().eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        buf = io.BytesIO()
        torch.jit.save(torch.jit.script(net), buf)
    data = buf.getvalue()
    locked = load_model_bytes("torchscript", data, hashlib.sha256(data).hexdigest())
    card = ModelCard.model_validate(
        {
            "name": "gap",
            "version": "1",
            "kind": "torchscript",
            "artifact": "gap.pt",
            "sha256": hashlib.sha256(data).hexdigest(),
            "training_sites": ["T"],
            "input": {"height": 12, "width": 12},
            "output": {"meaning": "m", "positive_class": "p"},
            "operating_point": 0.5,
            "explain": {"feature_module": "features", "head_module": "head"},
        }
    )
    x = np.random.default_rng(3).normal(size=(1, 12, 12)).astype(np.float32)
    cam, score = gradcam(locked, card, x)
    with torch.no_grad():
        acts = net.features(torch.from_numpy(x[None]))[0].numpy().astype(np.float64)
        expected_score = float(net(torch.from_numpy(x[None]))[0])
    w = net.head[2].weight.detach().numpy()[0].astype(np.float64)
    ref = np.maximum(np.tensordot(w, acts, axes=1), 0)
    np.testing.assert_allclose(cam, ref / ref.max(), atol=1e-5)  # float32 network
    assert score == expected_score


def test_error_sample_is_seeded_and_respects_the_operating_point() -> None:
    rng = np.random.default_rng(0)
    n = 80
    table = pd.DataFrame(
        {
            "case_id": [f"c{i:03d}" for i in range(n)],
            "site": rng.choice(["A", "B"], n),
            "truth": rng.integers(0, 2, n),
            "score": rng.uniform(size=n),
            "image": "x.png",
        }
    )
    a = select_errors(table, 0.4, 3, seed=9)
    assert a == select_errors(table.sample(frac=1, random_state=1), 0.4, 3, seed=9)  # order-free
    assert a != select_errors(table, 0.4, 3, seed=10)
    for item in a:
        row = table.set_index("case_id").loc[item["case_id"]]
        assert (item["kind"] == "FN") == (row.truth == 1 and row.score < 0.4)
        assert (item["kind"] == "FP") == (row.truth == 0 and row.score >= 0.4)
    counts = pd.DataFrame(a).groupby(["site", "kind"]).size()
    assert (counts <= 3).all()


def test_explain_errors_writes_figures_and_lists_them(study) -> None:
    protocol, root, cases = study
    cases = cases[cases.site.isin(["S1", "S2"])]  # one DICOM site, one PNG site
    preds = pd.DataFrame({"case_id": cases.case_id, "score": 1.0 - cases.truth})  # all errors
    out = root / "run" / "explanations"
    ex = explain_errors(protocol, root, cases, preds, out, per_site=1, seed=4)
    assert ex is not None and ex["disclaimer"] == DISCLAIMER
    assert "not a proof of the model's reasoning" in ex["disclaimer"]
    assert len(ex["items"]) == 4  # 2 sites x (1 FN + 1 FP)
    for item in ex["items"]:
        f = root / "run" / item["image"]
        assert (
            item["image"].startswith("explanations/") and f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        )
        assert item["score"] == (0.0 if item["kind"] == "FN" else 1.0)
    table = cases.merge(preds, on="case_id")
    assert [i["case_id"] for i in select_errors(table, protocol.model.operating_point, 1, 4)] == [
        ex["case_key"][i["case"]] for i in ex["items"]
    ]
    assert [i["case"] for i in ex["items"]] == ["E001", "E002", "E003", "E004"]
    for item in ex["items"]:  # no case id in an item or a figure name
        assert "case_id" not in item
        assert not any(cid in item["image"] for cid in cases.case_id.astype(str))


def _linear_model(weights: np.ndarray):
    """A locked 'model' whose score is sum(w * x) (numpy runner; any model kind works)."""
    from pathlib import Path

    from validation.models.artifact import LockedModel

    def run(batch: np.ndarray) -> np.ndarray:
        return (batch.astype(np.float64) * weights[None]).sum(axis=(1, 2, 3))

    return LockedModel(kind="onnx", path=Path("linear.onnx"), sha256="0" * 64, runner=run)


def test_occlusion_map_equals_the_patch_average_of_score_drops() -> None:
    """For a linear score the drop of hiding patch P is sum_P(w x); each pixel's value is the
    mean drop of the patches covering it (Zeiler and Fergus 2014), computed here by loops."""
    from validation.models.explain import occlusion_map

    rng = np.random.default_rng(8)
    w = rng.normal(size=(2, 10, 7))
    x = rng.normal(size=(2, 10, 7)).astype(np.float32)
    cam, score = occlusion_map(_linear_model(w), x, patch=3, stride=2, batch_size=4)
    assert score == pytest.approx(float((w * x.astype(np.float64)).sum()), rel=1e-12)
    total = np.zeros((10, 7))
    count = np.zeros((10, 7))
    for r in (0, 2, 4, 6, 7):  # the last start reaches the border (10 - 3 = 7)
        for c in (0, 2, 4):  # 7 - 3 = 4
            drop = float((w[:, r:r + 3, c:c + 3] * x[:, r:r + 3, c:c + 3]).sum())
            total[r:r + 3, c:c + 3] += drop
            count[r:r + 3, c:c + 3] += 1
    expected = np.clip(total / count, 0, None)
    np.testing.assert_allclose(cam, expected / expected.max(), rtol=1e-9, atol=1e-12)


def test_occlusion_map_finds_the_only_region_the_score_uses() -> None:
    from validation.models.explain import occlusion_map

    w = np.zeros((1, 16, 16))
    w[0, 2:6, 9:13] = 1.0  # the score reads one 4x4 square only
    x = np.ones((1, 16, 16), dtype=np.float32)
    cam, _ = occlusion_map(_linear_model(w), x)  # defaults: patch 2, stride 1
    assert np.unravel_index(np.argmax(cam), cam.shape)[0] in range(2, 6)
    assert cam[8:, :].max() == 0.0 and cam[:, :7].max() == 0.0
    assert cam.max() == 1.0


def test_occlusion_for_a_card_without_a_gradcam_split(study) -> None:
    """No 'explain' section (as for ONNX models): occlusion maps, with their own disclaimer."""
    from validation.models.explain import OCCLUSION_DISCLAIMER

    protocol, root, cases = study
    card = root / "demo_model.card.yaml"
    card.write_text("\n".join(line for line in card.read_text().splitlines()
                              if not line.startswith("explain:")) + "\n")
    cases = cases[cases.site == "S1"]
    preds = pd.DataFrame({"case_id": cases.case_id, "score": 1.0 - cases.truth})
    ex = explain_errors(protocol, root, cases, preds, root / "run" / "explanations",
                        per_site=1, seed=4)
    assert ex is not None and ex["method"] == "occlusion"
    assert ex["disclaimer"] == OCCLUSION_DISCLAIMER and "not a" in ex["disclaimer"]
    assert len(ex["items"]) == 2
    for item in ex["items"]:
        assert (root / "run" / item["image"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_occlusion_refuses_a_patch_that_does_not_fit() -> None:
    from validation.errors import DataError
    from validation.models.explain import occlusion_map

    with pytest.raises(DataError, match="do not fit"):
        occlusion_map(_linear_model(np.ones((1, 4, 4))), np.ones((1, 4, 4), np.float32), patch=5)
