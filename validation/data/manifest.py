"""Reading the test-set manifest against its data specification."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from validation.data.specs import load_table

DEFAULT_SPEC = "test_set_manifest"


def load_manifest(path: str | os.PathLike[str], spec: str = DEFAULT_SPEC) -> pd.DataFrame:
    """Read the manifest (CSV, TSV or Parquet) and check it against ``data_specs/<spec>.yaml``.

    Returns the manifest with typed columns (``case_id``, ``patient_id``, ``site`` as strings,
    ``truth`` as 0/1 integers, the boolean flag columns filled with their declared default when
    absent). Every violation is reported at once as a
    :class:`~validation.errors.DataError` naming the file, row and column.
    """
    return load_table(Path(path), spec, what="test-set manifest")
