"""The shipped demo model can be rebuilt bit for bit by tools/train_demo_model.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_training_script_rebuilds_the_shipped_hash() -> None:
    """About a minute of CPU training (one thread); same torch build and CPU family."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "train_demo_model.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1800,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "reproduced the shipped artifact" in proc.stdout


def test_canonical_torchscript_is_repeatable_and_path_free() -> None:
    """The export step alone (no training): two exports of one model give the same bytes,
    with no debug records (which hold absolute source paths) and a content-derived id."""
    import hashlib
    import importlib.util
    import io
    import zipfile

    import torch

    spec = importlib.util.spec_from_file_location(
        "train_demo_model", ROOT / "tools" / "train_demo_model.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    torch.manual_seed(0)
    net = mod.DemoNet().eval()
    a, b = mod.export(net), mod.export(net)
    assert hashlib.sha256(a).digest() == hashlib.sha256(b).digest()
    names = zipfile.ZipFile(io.BytesIO(a)).namelist()
    assert not [n for n in names if n.endswith(".debug_pkl")]
    assert all(n.startswith("archive/") for n in names)
    assert str(ROOT).encode() not in a and b"site-packages" not in a
    mod._verify(a, net)  # the exported archive reproduces the module exactly
