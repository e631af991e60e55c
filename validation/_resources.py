"""Where the suite's own files are: the repository's folders, or their copies in the package.

``data_specs/``, ``reports/``, ``protocols/demo.yaml`` and ``protocols/surveillance_demo.yaml``
live at the repository root (ARCHITECTURE.md). An editable install finds them there; a wheel
carries copies under ``validation/assets/`` (written by ``setup.py`` at build time), found when
the repository's folders are not beside the package.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE.parent
ASSETS = PACKAGE / "assets"

SHIPPED = ("data_specs", "reports", "protocols/demo.yaml", "protocols/surveillance_demo.yaml",
           "protocols/demo_robustness.yaml", "protocols/segmentation_example.yaml",
           "protocols/examples/segmentation", "protocols/detection_study.yaml",
           "protocols/risk_example.yaml", "protocols/examples/risk_example")
"""Repository paths copied into ``validation/assets/`` when a wheel is built."""


def resource(relative: str, *, env: str | None = None) -> Path:
    """The file or folder ``relative`` (a :data:`SHIPPED` path or below one).

    ``env`` names an environment variable that overrides the location. Returns the repository
    path when it exists, else the packaged copy, else the repository path (so that a message
    can name where it was expected).
    """
    if env and os.environ.get(env):
        return Path(os.environ[env])
    for base in (REPO_ROOT, ASSETS):
        candidate = base / relative
        if candidate.exists():
            return candidate
    return REPO_ROOT / relative


def data_spec_dir() -> Path:
    """The ``data_specs/`` folder (``VALIDATION_DATA_SPECS`` overrides it): the data layer reads
    the specifications, the protocol layer checks that a named one exists."""
    return resource("data_specs", env="VALIDATION_DATA_SPECS")
