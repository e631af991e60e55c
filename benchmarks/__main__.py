"""Run every benchmark module and print one table of figures and ratios.

Each module in ``BENCHMARKS`` exposes ``run() -> list[dict]``; each row has ``name``,
``value``, ``unit`` and optionally ``ratio`` (against the alternative measured in the same run)
and ``target``. Results are also written to ``benchmarks/results/latest.json``.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

BENCHMARKS: list[str] = [
    "bench_bootstrap",
    "bench_hypotheses",
    "bench_inference",
    "bench_localization",
    "bench_mrmc",
    "bench_provenance",
    "bench_report",
    "bench_robustness",
    "bench_roc",
    "bench_surveillance",
    "bench_scale",
    "bench_segmentation",
    "bench_risk",
    "bench_consistency",
]


def main(argv: list[str]) -> int:
    names = argv or BENCHMARKS
    rows: list[dict] = []
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        for row in module.run():
            row = {"benchmark": name, **row}
            rows.append(row)
            print(json.dumps(row), flush=True)
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
