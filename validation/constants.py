"""Names every layer shares: the files of a run directory and the suite's default seed.

Ground floor (like :mod:`validation.errors` and hashing): the standard library only, so that
stats, protocol, data, analysis, report, provenance, pipeline and the CLI may all import it.
"""

from __future__ import annotations

RESULTS_FILE = "results.json"
"""Every number the report shows, under stable keys."""
LOCK_FILE = "protocol.lock.json"
"""The locked protocol copied into a run directory."""
PREDICTIONS_FILE = "predictions.parquet"
INPUTS_FILE = "inputs.json"
ENVIRONMENT_FILE = "environment.json"
MANIFEST_FILE = "manifest.json"
RECEIPT_FILE = "registry_receipt.json"
"""Written after the registry entry holding the manifest's hash: that entry's sequence number
and hash (the anchor that covers the run's own entry). Not listed in the manifest."""

DEFAULT_SEED = 20261128
"""Seed of the simulated demo data, the demo model and the calculators' bootstrap."""
