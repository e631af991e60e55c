"""Grad-CAM error analysis: the CAM identity, seeded sampling, figures and the disclaimer."""

from __future__ import annotations

import hashlib
import io
import warnings

import numpy as np
import pandas as pd
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
        i["case_id"] for i in ex["items"]
    ]
