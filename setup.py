"""Build hook: copy the repository's data specifications, report templates and demo protocol
into ``validation/assets/`` of the built package, so that a wheel works without the checkout.

Everything else about the package is in pyproject.toml; the list of copied paths is
``validation._resources.SHIPPED`` (read here without importing the package).
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _shipped() -> tuple[str, ...]:
    tree = ast.parse((ROOT / "validation" / "_resources.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "SHIPPED" for t in node.targets
        ):
            return tuple(ast.literal_eval(node.value))
    raise SystemExit("validation/_resources.py defines no SHIPPED tuple")


class BuildWithAssets(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the repository's folders directly
            return
        assets = Path(self.build_lib) / "validation" / "assets"
        for rel in _shipped():
            src = ROOT / rel
            dst = assets / rel
            if src.is_dir():
                shutil.copytree(src, dst, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)


setup(cmdclass={"build_py": BuildWithAssets})
