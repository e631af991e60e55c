"""A built wheel carries the data specifications, report templates and demo protocol.

The repository keeps them at its root (ARCHITECTURE.md); ``setup.py`` copies them into
``validation/assets/`` at build time. Here a wheel is built from a copy of the sources (offline,
without build isolation), unpacked, and the unpacked package, run from a folder with no
checkout, must find every resource in its own assets, byte-identical to the repository's.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for name in ("validation", "data_specs", "reports"):
        shutil.copytree(ROOT / name, src / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (src / "protocols").mkdir()
    for name in ("demo.yaml", "surveillance_demo.yaml", "demo_robustness.yaml",
                 "segmentation_example.yaml", "detection_study.yaml", "risk_example.yaml"):
        shutil.copy2(ROOT / "protocols" / name, src / "protocols" / name)
    for example in ("segmentation", "risk_example"):
        shutil.copytree(ROOT / "protocols" / "examples" / example,
                        src / "protocols" / "examples" / example)
    dist = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(dist), str(src)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    (wheel,) = dist.glob("imaging_validation-*.whl")
    out = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as z:
        z.extractall(out)
    return out


def test_assets_are_copies_of_the_repository_files(unpacked: Path) -> None:
    assets = unpacked / "validation" / "assets"
    for rel in ("data_specs", "reports"):
        cmp = filecmp.dircmp(ROOT / rel, assets / rel, ignore=["__pycache__"])
        assert not (cmp.left_only or cmp.right_only or cmp.diff_files), rel
        for sub in cmp.subdirs.values():
            assert not (sub.left_only or sub.right_only or sub.diff_files), sub.left
    for name in ("demo.yaml", "surveillance_demo.yaml", "demo_robustness.yaml",
                 "segmentation_example.yaml", "detection_study.yaml", "risk_example.yaml"):
        assert filecmp.cmp(ROOT / "protocols" / name, assets / "protocols" / name, shallow=False)
    for example in ("segmentation", "risk_example"):
        ex = filecmp.dircmp(ROOT / "protocols" / "examples" / example,
                            assets / "protocols" / "examples" / example, ignore=["__pycache__"])
        assert not (ex.left_only or ex.right_only or ex.diff_files), example
    assert (assets / "demo_model" / "demo_model.pt").is_file()


def test_installed_package_finds_its_resources(unpacked: Path, tmp_path: Path) -> None:
    code = (
        "from validation.data.specs import spec_dir, load_spec\n"
        "from validation.report.qmd import templates_dir\n"
        "from validation.demo_data import find_demo_template\n"
        "from validation.surveillance.demo import find_plan_template\n"
        "load_spec('test_set_manifest')\n"
        "for p in (spec_dir(), templates_dir(), find_demo_template(), find_plan_template()):\n"
        "    print(p)\n"
    )
    env = {k: v for k, v in os.environ.items()
           if k not in ("VALIDATION_DATA_SPECS", "VALIDATION_REPORTS_DIR")}
    env["PYTHONPATH"] = str(unpacked)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    paths = [Path(line) for line in proc.stdout.splitlines()]
    assets = unpacked / "validation" / "assets"
    assert paths == [assets / "data_specs", assets / "reports", assets / "protocols" / "demo.yaml",
                     assets / "protocols" / "surveillance_demo.yaml"]
