"""Rerun a run's locked protocol on its recorded inputs and compare ``results.json``.

``results.json`` is canonical JSON without timestamps or paths, so the same protocol, inputs,
seed and code give the same bytes. :func:`diff_keys` (pure) names every key that differs when
they do not.
"""

from __future__ import annotations

import inspect
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from validation.constants import RESULTS_FILE
from validation.errors import ProvenanceError
from validation.provenance.hashing import sha256_bytes
from validation.provenance.inputs import check_inputs, inputs_base, load_inputs
from validation.provenance.manifest import INCOMPLETE_SUFFIX, is_incomplete
from validation.provenance.registry import Registry


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyDiff:
    """One difference between two JSON documents at ``path``.

    ``kind`` is ``changed`` (both have the key), ``added`` (only the new one) or ``removed``
    (only the old one).
    """

    path: str
    kind: str
    old: Any = None
    new: Any = None


def _key(prefix: str, key: str) -> str:
    if key and all(c.isalnum() or c in "_-" for c in key):
        return f"{prefix}.{key}" if prefix else key
    return f"{prefix}[{json.dumps(key, ensure_ascii=False)}]"


def _same_scalar(a: Any, b: Any) -> bool:
    # JSON 1 and 1.0 (and true and 1) are different bytes: compare types too.
    return type(a) is type(b) and a == b


def diff_keys(old: Any, new: Any, path: str = "") -> list[KeyDiff]:
    """Every path at which two JSON values differ, in document order.

    Objects are compared key by key, arrays index by index (``a.b[3]``), scalars by type and
    value. Keys that are not plain words are quoted (``by_site["A 1"]``). The root is ``""``.

    Examples
    --------
    >>> [d.path for d in diff_keys({"a": 1, "b": [1, 2]}, {"a": 1.0, "b": [1], "c": None})]
    ['a', 'b[1]', 'c']
    """
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[KeyDiff] = []
        for key in sorted(set(old) | set(new)):
            sub = _key(path, str(key))
            if key not in new:
                out.append(KeyDiff(path=sub, kind="removed", old=old[key]))
            elif key not in old:
                out.append(KeyDiff(path=sub, kind="added", new=new[key]))
            else:
                out.extend(diff_keys(old[key], new[key], sub))
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for i in range(max(len(old), len(new))):
            sub = f"{path}[{i}]"
            if i >= len(new):
                out.append(KeyDiff(path=sub, kind="removed", old=old[i]))
            elif i >= len(old):
                out.append(KeyDiff(path=sub, kind="added", new=new[i]))
            else:
                out.extend(diff_keys(old[i], new[i], sub))
        return out
    if isinstance(old, (dict, list)) or isinstance(new, (dict, list)) or not _same_scalar(old, new):
        return [KeyDiff(path=path, kind="changed", old=old, new=new)]
    return []


@dataclass(frozen=True, slots=True, kw_only=True)
class ReproduceReport:
    """Outcome of :func:`reproduce_run`."""

    run_dir: str
    original_sha256: str
    reproduced_sha256: str
    differences: tuple[KeyDiff, ...]

    @property
    def identical(self) -> bool:
        return self.original_sha256 == self.reproduced_sha256


def reproduce_run(
    run_dir: str | os.PathLike[str],
    *,
    registry: Registry | str | None = None,
    protocol: str | os.PathLike[str] | None = None,
    operator: str | None = None,
) -> ReproduceReport:
    """Rerun the run's protocol on its recorded inputs into a temporary folder and compare.

    The inputs listed in ``inputs.json`` are re-hashed first: if any changed or is missing,
    the run cannot be reproduced and :class:`ProvenanceError` names them. ``protocol``
    overrides where the protocol file is found (its hash must still match). The rerun is a
    real run: it is recorded in the registry, including its access to the test set.
    """
    root = Path(run_dir)
    if not root.is_dir():
        raise ProvenanceError(f"'run_dir' must be an existing run directory; got {str(root)!r}.")
    if is_incomplete(root):
        raise ProvenanceError(
            f"{str(root)!r} is marked {INCOMPLETE_SUFFIX}: an unfinished run cannot be reproduced."
        )
    results_path = root / RESULTS_FILE
    if not results_path.is_file():
        raise ProvenanceError(f"'{RESULTS_FILE}' is missing from {str(root)!r}.")
    original = results_path.read_bytes()
    recorded = load_inputs(root)
    base = inputs_base(recorded, root)
    if protocol is not None:
        entry = recorded["inputs"].get("protocol")
        if entry is None:
            raise ProvenanceError("inputs.json records no 'protocol' input to replace.")
        base = Path(protocol).resolve().parent  # the other inputs sit where they sat beside it
        recorded = {**recorded, "inputs": {**recorded["inputs"],
                                           "protocol": {**entry, "path": Path(protocol).name}}}
    problems = check_inputs(recorded, base)
    if problems:
        raise ProvenanceError(
            "the recorded inputs changed since the run, so it cannot be reproduced:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    if "protocol" not in recorded["inputs"]:
        raise ProvenanceError("inputs.json records no 'protocol' input; nothing to rerun.")
    protocol_path = Path(recorded["inputs"]["protocol"]["path"])
    if not protocol_path.is_absolute() and base is not None:
        protocol_path = base / protocol_path
    try:
        seed = json.loads(original).get("seed")
    except json.JSONDecodeError as exc:
        raise ProvenanceError(
            f"'{RESULTS_FILE}' in {str(root)!r} is not valid JSON: {exc}."
        ) from None

    from validation.pipeline import run_protocol  # reproduce sits beside the pipeline it reruns

    accepted = inspect.signature(run_protocol).parameters
    url = registry.url if isinstance(registry, Registry) else registry
    options: dict[str, Any] = {"seed": seed, "formats": (), "registry": url,
                               "operator": operator, "progress": False}
    options = {k: v for k, v in options.items() if k in accepted}
    with tempfile.TemporaryDirectory(prefix="validation-reproduce-") as tmp:
        new_dir = Path(run_protocol(protocol_path, out_dir=Path(tmp), **options))
        new_path = new_dir / RESULTS_FILE
        if not new_path.is_file():
            raise ProvenanceError(f"the rerun wrote no '{RESULTS_FILE}' in {str(new_dir)!r}.")
        reproduced = new_path.read_bytes()
    differences: list[KeyDiff] = []
    if reproduced != original:
        differences = diff_keys(json.loads(original), json.loads(reproduced))
    return ReproduceReport(
        run_dir=str(root), original_sha256=sha256_bytes(original),
        reproduced_sha256=sha256_bytes(reproduced), differences=tuple(differences),
    )
