"""Error analysis with Grad-CAM saliency maps for a seeded sample of FN and FP cases per site.

CONSORT-AI (Liu et al. 2020, doi:10.1038/s41591-020-1034-x, item 19) asks for an analysis of
performance errors. For each test site, up to ``per_site`` false negatives (truth 1, score below
the operating point) and ``per_site`` false positives (truth 0, score at or above it) are drawn
with a seeded generator, and for each a Grad-CAM map (Selvaraju et al. 2017,
doi:10.1109/ICCV.2017.74) is drawn over the image, labelled with the case, its score, the
operating point and the truth.

Grad-CAM needs the model split into a feature extractor and a head, named in the model card
(``explain: {feature_module, head_module}``); the split is checked on every case: ``head``
applied to ``features`` must reproduce the model's score (directly or through a sigmoid).
Models without that split (ONNX, or a card without ``explain``) get occlusion-sensitivity maps
instead (Zeiler and Fergus 2014, doi:10.1007/978-3-319-10590-1_53), which need only the
model's scores: each square patch is replaced by the normalisation mean and the drop of the
score is spread over the patch's pixels.

A saliency map is not a proof of the model's reasoning: it shows where the gradient of the
score with respect to the last feature maps is large, which can highlight regions unrelated to
the finding, and it is never evidence of correctness. Every figure and the results say so.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from validation.errors import DataError, LockedModelError
from validation.models.artifact import LockedModel
from validation.models.card import ModelCard
from validation.models.images import load_image
from validation.models.inference import deterministic_torch

DISCLAIMER = (
    "Saliency maps (Grad-CAM, Selvaraju et al. 2017, doi:10.1109/ICCV.2017.74) show where the "
    "gradient of the model's score is large; they are not a proof of the model's reasoning, "
    "may highlight regions unrelated to the finding, and are no evidence of correctness. "
    "They are shown for a seeded sample of errors only, to support error analysis."
)
OCCLUSION_DISCLAIMER = (
    "Occlusion-sensitivity maps (Zeiler and Fergus 2014, doi:10.1007/978-3-319-10590-1_53) show "
    "how much the model's score drops when a region of the image is hidden; they are not a "
    "proof of the model's reasoning, depend on the patch size and the fill value, may "
    "highlight regions unrelated to the finding, and are no evidence of correctness. They are "
    "shown for a seeded sample of errors only, to support error analysis."
)
METHOD_LABELS = {"grad-cam": "Grad-CAM", "occlusion": "occlusion sensitivity"}


def occlusion_map(
    model: LockedModel,
    x: np.ndarray,
    *,
    patch: int | None = None,
    stride: int | None = None,
    fill: float = 0.0,
    batch_size: int = 64,
) -> tuple[np.ndarray, float]:
    """Occlusion-sensitivity map (H, W) in [0, 1] and the model's score for one input (C, H, W).

    Every ``patch`` x ``patch`` square on a grid of step ``stride`` (default: an eighth of the
    shorter side, and half the patch; the last row and column reach the border) is set to
    ``fill`` (0 = the normalisation mean) in all channels; the score drop ``s(x) - s(x_occ)`` is
    added to the patch's pixels and divided by how many patches cover each pixel. Negative
    values (regions whose hiding raises the score) are set to 0 and the map is scaled to a
    maximum of 1 (all zeros when no patch lowers the score). Works for any model that returns
    scores (Zeiler and Fergus 2014).
    """
    if x.ndim != 3:
        raise DataError(f"'x' must be one image of shape (C, H, W); got shape {x.shape}.")
    _, h, w = x.shape
    p = int(patch) if patch else max(1, min(h, w) // 8)
    st = int(stride) if stride else max(1, p // 2)
    if not (1 <= p <= min(h, w)) or st < 1:
        raise DataError(f"occlusion patch {p} and stride {st} do not fit an image of {h}x{w}.")

    def starts(n: int) -> list[int]:
        out = list(range(0, n - p + 1, st))
        if out[-1] != n - p:
            out.append(n - p)
        return out

    boxes = [(r, c) for r in starts(h) for c in starts(w)]
    score = float(model.predict(np.ascontiguousarray(x[None], dtype=np.float32))[0])
    total = np.zeros((h, w), dtype=np.float64)
    count = np.zeros((h, w), dtype=np.float64)
    for i in range(0, len(boxes), batch_size):
        chunk = boxes[i:i + batch_size]
        occ = np.repeat(x[None].astype(np.float32), len(chunk), axis=0)
        for j, (r, c) in enumerate(chunk):
            occ[j, :, r:r + p, c:c + p] = fill
        drops = score - np.asarray(model.predict(occ), dtype=np.float64)
        for (r, c), d in zip(chunk, drops, strict=True):
            total[r:r + p, c:c + p] += d
            count[r:r + p, c:c + p] += 1.0
    arr = np.clip(total / count, 0.0, None)
    top = arr.max()
    return (arr / top if top > 0 else arr), score


def gradcam(model: LockedModel, card: ModelCard, x: np.ndarray) -> tuple[np.ndarray, float]:
    """Grad-CAM map (H, W) in [0, 1] and the model's score for one input (C, H, W)."""
    import torch
    import torch.nn.functional as F

    if model.module is None or card.explain is None:
        raise LockedModelError("Grad-CAM needs a torch model and a card 'explain' section.")
    module = model.module
    try:
        features = getattr(module, card.explain.feature_module)
        head = getattr(module, card.explain.head_module)
    except AttributeError as exc:
        raise LockedModelError(
            f"Model '{model.path.name}' has no submodule named in the card's explain "
            f"section: {exc}."
        ) from None
    xt = torch.from_numpy(np.ascontiguousarray(x[None], dtype=np.float32))
    with torch.enable_grad():
        acts = features(xt).detach().requires_grad_(True)
        out = head(acts).reshape(-1)
        (grad,) = torch.autograd.grad(out.sum(), acts)
    with torch.inference_mode():
        score = float(module(xt).reshape(-1)[0])
    raw = float(out.detach()[0])
    as_sigmoid = 1.0 / (1.0 + np.exp(-raw))
    if not (
        np.isclose(raw, score, rtol=1e-5, atol=1e-7)
        or np.isclose(as_sigmoid, score, rtol=1e-5, atol=1e-7)
    ):
        raise LockedModelError(
            f"The card's explain split does not reproduce model '{model.path.name}': "
            f"head(features(x)) = {raw!r}, model(x) = {score!r}."
        )
    weights = grad.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((weights * acts.detach()).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=x.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
    arr = cam.numpy().astype(np.float64)
    top = arr.max()
    return (arr / top if top > 0 else arr), score


def select_errors(
    table: Any, operating_point: float, per_site: int, seed: int
) -> list[dict[str, Any]]:
    """Seeded sample of FN and FP case rows per site (sites and ids in sorted order)."""
    chosen: list[dict[str, Any]] = []
    t = table.dropna(subset=["score"])
    for site in sorted(t["site"].astype(str).unique()):
        rows = t[t["site"].astype(str) == site]
        for kind, mask in (
            ("FN", (rows["truth"] == 1) & (rows["score"] < operating_point)),
            ("FP", (rows["truth"] == 0) & (rows["score"] >= operating_point)),
        ):
            ids = sorted(rows.loc[mask, "case_id"].astype(str))
            if not ids:
                continue
            rng = np.random.default_rng(
                [seed, int.from_bytes(f"{site}|{kind}".encode(), "big") % 2**63]
            )
            k = min(per_site, len(ids))
            pick = sorted(rng.choice(len(ids), size=k, replace=False).tolist())
            for i in pick:
                row = rows[rows["case_id"].astype(str) == ids[i]].iloc[0]
                chosen.append(
                    {
                        "case_id": ids[i],
                        "site": site,
                        "kind": kind,
                        "score": float(row["score"]),
                        "truth": int(row["truth"]),
                        "image_path": row["image"],
                    }
                )
    return chosen


def _figure(img: np.ndarray, cam: np.ndarray, item: dict[str, Any], op: float, path: Path,
            method: str = "grad-cam") -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.6, 2.9), dpi=110)
    FigureCanvasAgg(fig)
    ax1, ax2 = fig.subplots(1, 2)
    for ax in (ax1, ax2):
        ax.imshow(img, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
    ax2.imshow(cam, cmap="jet", alpha=0.45, vmin=0, vmax=1, interpolation="bilinear")
    ax1.set_title("image", fontsize=8)
    ax2.set_title(METHOD_LABELS[method], fontsize=8)
    word = "false negative" if item["kind"] == "FN" else "false positive"
    fig.suptitle(
        f"case {item['case']} (site {item['site']}): {word}\n"
        f"score {item['score']:.4f}, operating point {op:g}, reference standard {item['truth']}",
        fontsize=8,
    )
    fig.text(
        0.5,
        0.02,
        "A saliency map is not proof of the model's reasoning.",
        ha="center",
        fontsize=7,
        style="italic",
    )
    fig.savefig(path, format="png", metadata={"Software": None})


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def explain_cases(
    model: LockedModel,
    card: ModelCard,
    cases: Any,
    predictions: Any,
    images_root: Path,
    out_dir: Path,
    *,
    operating_point: float,
    per_site: int = 2,
    seed: int = 0,
) -> dict[str, Any]:
    """Draw saliency figures for sampled FN/FP cases; return ``{disclaimer, method, items,
    case_key}``.

    Items, figure titles and file names name each case by a run-local pseudonym (``E001``,
    ``E002``, ... in the order of :func:`select_errors`); ``case_key`` maps pseudonym to case
    id and must not enter the dossier (the pipeline writes it outside the run folder).

    Grad-CAM when the model is a torch module and the card names the ``explain`` split, else
    occlusion sensitivity. ``cases`` has case_id, site, truth and image; ``predictions`` has
    case_id and score. Images are written to ``out_dir`` and listed as
    ``<out_dir name>/<file>.png``.
    """
    import pandas as pd

    if card.input is None:
        raise LockedModelError("Saliency maps need the card's 'input' section.")
    method = "grad-cam" if (model.module is not None and card.explain is not None) else "occlusion"
    missing = [c for c in ("case_id", "site", "truth", "image") if c not in cases.columns]
    if missing:
        raise DataError(f"Cases for error analysis lack column(s) {missing}.")
    table = (
        cases[["case_id", "site", "truth", "image"]]
        .astype({"case_id": str})
        .merge(
            pd.DataFrame(predictions)[["case_id", "score"]].astype({"case_id": str}),
            on="case_id",
            how="inner",
        )
    )
    items: list[dict[str, Any]] = []
    out_dir.mkdir(parents=True, exist_ok=True)
    norm = card.input.normalization
    case_key: dict[str, str] = {}
    with deterministic_torch(seed):
        for k, item in enumerate(select_errors(table, operating_point, per_site, seed), 1):
            # reports and figure names carry a run-local sequence, never the case id
            item["case"] = f"E{k:03d}"
            case_key[item["case"]] = str(item["case_id"])
            x = load_image(
                images_root / str(item["image_path"]), card.input, case_id=item["case_id"]
            )
            if method == "grad-cam":
                cam, score = gradcam(model, card, x)
            else:
                cam, score = occlusion_map(model, x)
            img = np.clip(x[0] * norm.std + norm.mean, 0, 1)
            name = _safe(f"{item['kind']}_{item['site']}_{item['case']}") + ".png"
            _figure(img, cam, item, operating_point, out_dir / name, method)
            items.append(
                {
                    "case": item["case"],
                    "site": item["site"],
                    "kind": item["kind"],
                    "score": item["score"],
                    "truth": item["truth"],
                    "image": f"{out_dir.name}/{name}",
                }
            )
    disclaimer = DISCLAIMER if method == "grad-cam" else OCCLUSION_DISCLAIMER
    return {"disclaimer": disclaimer, "method": method, "items": items, "case_key": case_key}
