"""Train the demo's tiny lesion CNN on the training sites and export the locked TorchScript file.

Usage (from the repository root)::

    python tools/train_demo_model.py            # writes validation/assets/demo_model/
    python tools/train_demo_model.py --check    # rebuilds in memory, compares with the shipped hash

The images come from :mod:`validation.demo_images` (training sites T1 and T2 only; the test
sites S1-S4 are never touched). Training runs on the CPU in one thread with deterministic
algorithms and fixed seeds, so the same torch build on the same kind of CPU rebuilds the same
weights and therefore the same file hash.

Reproducibility caveats (platform):

* Floating-point results of training depend on the torch build and the CPU's vector unit
  (oneDNN picks AVX2 or AVX-512 kernels at run time), so a different torch version or CPU
  family may give different weights and a different hash. The shipped artifact was built with
  torch 2.13.0+cpu on x86-64 Linux; the locked file, not the rebuild, is what the protocol
  locks. ``--check`` reports whether this machine reproduces it.
* ``torch.jit.save`` writes a random ``serialization_id``, debug records that hold the
  absolute paths of the Python sources (torch's own install path included), and some module
  constants in an order that follows Python's string hashing. The export here drops the debug
  records, sets the id from the content hash and runs under ``PYTHONHASHSEED=0`` (the script
  re-executes itself with it), so the file depends only on the weights and the model code.
  TorchScript is deprecated in torch 2.13; loading it still
  works and the suite also accepts ``torch.export`` archives (``.pt2``).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import struct
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from validation.demo_images import DEFAULT_SEED, TRAINING_SITES, site_arrays  # noqa: E402

OUT = ROOT / "validation" / "assets" / "demo_model"
ARTIFACT = "demo_model.pt"
N_TRAIN_PER_SITE = 600
N_TUNE_PER_SITE = 150
EPOCHS = 16
BATCH = 32
MEAN, STD = 0.5, 0.25
OPERATING_POINT = 0.5


class DemoNet(nn.Module):
    """Three 3x3 conv blocks (8, 16, 32 channels, batch norm), global max pool, one logit."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
        )
        self.head = nn.Sequential(nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(32, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.head(self.features(x))).flatten()


DemoNet.__module__ = "validation_demo_model"  # fixed name inside the TorchScript archive


def _data(seed: int, n: int, stream: int) -> tuple[torch.Tensor, torch.Tensor]:
    xs, ys = [], []
    for site in TRAINING_SITES:
        images, truth = site_arrays(site, n, seed + stream)
        xs.append(np.rint(images * 255) / 255)  # the training sites deliver 8-bit images
        ys.append(truth)
    x = (np.concatenate(xs)[:, None] - MEAN) / STD
    return torch.from_numpy(x.astype(np.float32)), torch.from_numpy(
        np.concatenate(ys).astype(np.float32)
    )


def _augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Scanner-style randomisation (contrast, brightness, noise) and left-right flips."""
    n = x.shape[0]
    contrast = 0.8 + 0.4 * torch.rand(n, 1, 1, 1, generator=g)
    shift = (torch.rand(n, 1, 1, 1, generator=g) - 0.5) * 0.12 / STD
    sigma = (0.02 + 0.06 * torch.rand(n, 1, 1, 1, generator=g)) / STD
    x = x * contrast + shift + sigma * torch.randn(x.shape, generator=g)
    flip = torch.rand(n, generator=g) < 0.5
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def train(seed: int = DEFAULT_SEED) -> tuple[DemoNet, tuple[float, float]]:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    x, y = _data(seed, N_TRAIN_PER_SITE, 0)
    model = DemoNet()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    for epoch in range(EPOCHS):
        order = torch.randperm(x.shape[0], generator=g)
        model.train()
        total = 0.0
        for s in range(0, x.shape[0], BATCH):
            idx = order[s : s + BATCH]
            logits = model.head(model.features(_augment(x[idx], g))).flatten()
            loss = loss_fn(logits, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * idx.numel()
        print(f"epoch {epoch + 1:2d}  loss {total / x.shape[0]:.4f}", file=sys.stderr)
    model.eval()
    # operating point: the probability 0.5, reported on a separate tuning split of the
    # training sites (sensitivity and specificity go into the card's description)
    xt, yt = _data(seed, N_TUNE_PER_SITE, 1)
    with torch.inference_mode():
        s = model(xt).numpy()
    y = yt.numpy()
    sens = float(((s >= OPERATING_POINT) & (y == 1)).sum() / (y == 1).sum())
    spec = float(((s < OPERATING_POINT) & (y == 0)).sum() / (y == 0).sum())
    return model, (sens, spec)


def _extra_for_alignment(offset: int, name: str, alignment: int = 64) -> bytes:
    """Padding extra field ('FB' id, as torch writes) so the record's data starts aligned."""
    start = offset + 30 + len(name.encode()) + 4
    pad = (-start) % alignment
    return struct.pack("<HH", 0x4246, pad) + b"Z" * pad


def canonical_torchscript(raw: bytes) -> bytes:
    """Re-pack a ``torch.jit.save`` archive deterministically and without path-bearing records.

    Drops ``*.debug_pkl`` (source file paths), names the archive folder ``archive``, sets
    ``.data/serialization_id`` from the content and writes stored, 64-byte aligned records with
    a fixed date.
    """
    src = zipfile.ZipFile(io.BytesIO(raw))
    records: list[tuple[str, bytes]] = []
    for info in src.infolist():
        _, _, rel = info.filename.partition("/")
        if rel.endswith(".debug_pkl") or rel == ".data/serialization_id":
            continue
        records.append((f"archive/{rel}", src.read(info)))
    digest = hashlib.sha256(b"".join(n.encode() + b"\0" + d for n, d in records)).hexdigest()
    records.append(("archive/.data/serialization_id", str(int(digest, 16))[:40].encode()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as dst:
        for name, data in records:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            info.extra = _extra_for_alignment(out.tell(), name)
            dst.writestr(info, data)
    return out.getvalue()


def export(model: DemoNet) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.script(model)
        buf = io.BytesIO()
        torch.jit.save(scripted, buf)
    return canonical_torchscript(buf.getvalue())


def _verify(data: bytes, model: DemoNet) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        loaded = torch.jit.load(io.BytesIO(data))
    x = torch.linspace(-2, 2, 2 * 64 * 64).reshape(2, 1, 64, 64)
    with torch.inference_mode():
        if not torch.equal(loaded(x), model(x)):
            raise SystemExit("exported TorchScript does not reproduce the trained model")


CARD = """\
# Model card of the demo's locked model (read and checked by validation.models.card).
name: demo-lesion-cnn
version: "1.0.0"
description: >
  Tiny convolutional network (3 conv blocks, about 6k parameters) that scores synthetic 64x64
  chest-radiograph-like images for a round, nodule-like opacity. Built by
  tools/train_demo_model.py; for demonstration only, not a medical device. On the {tuning}.
intended_use: Demonstration of the validation suite on synthetic images only.
kind: torchscript
artifact: {artifact}
sha256: {sha256}
training_sites: [{training_sites}]
input:
  height: 64
  width: 64
  channels: 1
  normalization: {{mean: {mean}, std: {std}}}
  dicom_window: {{center: 0.5, width: 2001}}
output:
  meaning: probability that a nodule-like opacity is present
  positive_class: lesion present
  range: [0, 1]
operating_point: {op}
explain: {{feature_module: features, head_module: head}}
"""


def main(argv: list[str]) -> int:
    if os.environ.get("PYTHONHASHSEED") != "0":
        # TorchScript writes some module constants in set order, which follows Python's string
        # hash; a fixed hash seed makes the archive's bytes repeatable. Re-run under it.
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        os.execve(sys.executable, [sys.executable, str(Path(__file__).resolve()), *argv], env)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="rebuild and compare, write nothing")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    model, (sens, spec) = train(args.seed)
    data = export(model)
    _verify(data, model)
    sha = hashlib.sha256(data).hexdigest()
    tuning = (
        f"tuning split (T1+T2, {2 * N_TUNE_PER_SITE} images) at {OPERATING_POINT}: "
        f"sensitivity {sens:.3f}, specificity {spec:.3f}"
    )
    print(f"sha256 {sha}  size {len(data)} bytes; {tuning}")
    if args.check:
        shipped = (OUT / f"{ARTIFACT}.sha256").read_text().split()[0]
        same = shipped == sha
        print("reproduced the shipped artifact" if same else f"differs from shipped {shipped}")
        return 0 if same else 1
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / ARTIFACT).write_bytes(data)
    (OUT / f"{ARTIFACT}.sha256").write_text(f"{sha}  {ARTIFACT}\n")
    (OUT / "demo_model.card.yaml").write_text(
        CARD.format(
            artifact=ARTIFACT,
            sha256=sha,
            training_sites=", ".join(TRAINING_SITES),
            mean=MEAN,
            std=STD,
            op=OPERATING_POINT,
            tuning=tuning,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
