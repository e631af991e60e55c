"""Provenance: what produced a run, and proof that nothing changed since.

The steps the pipeline calls, in order (see docs/CONTRACTS.md):

- :func:`record_inputs` -> ``inputs.json`` (every input file, size and SHA-256);
- :func:`write_environment` -> ``environment.json`` (Python, platform, packages, suite
  version and git commit, renderer);
- :func:`record_test_set_access` -> registry entry + ``test_set_usage.json``;
- :func:`finalize` -> ``manifest.json``, audit entry holding the manifest's SHA-256, atomic
  rename of ``<run-id>.incomplete`` to ``<run-id>``.

Checks: :func:`verify_run` (``validation verify``), :func:`check_chain`
(``validation audit``); ``validation reproduce`` lives beside the pipeline it reruns
(:mod:`validation.reproduce`);
:func:`scan_outputs` (patient identifiers in outputs). Approvals: :func:`record_approval`.
"""

from __future__ import annotations

from validation.provenance.access_log import (
    hash_of_test_set,
    record_test_set_access,
    usage_summary,
)
from validation.provenance.approvals import record_approval
from validation.provenance.audit import ChainReport, check_chain
from validation.provenance.environment import write_environment
from validation.provenance.finalize import finalize
from validation.provenance.hashing import sha256_bytes, sha256_file
from validation.provenance.inputs import record_inputs
from validation.provenance.manifest import write_manifest
from validation.provenance.phi_scan import identifier_values, scan_outputs
from validation.provenance.registry import Registry, default_registry_url, open_registry
from validation.provenance.verify import VerificationReport, verify_run

__all__ = [
    "ChainReport",
    "Registry",
    "VerificationReport",
    "check_chain",
    "default_registry_url",
    "finalize",
    "hash_of_test_set",
    "identifier_values",
    "open_registry",
    "record_approval",
    "record_inputs",
    "record_test_set_access",
    "scan_outputs",
    "sha256_bytes",
    "sha256_file",
    "usage_summary",
    "verify_run",
    "write_environment",
    "write_manifest",
]
