"""The checks that can refuse a run before any run folder exists (steps 1-4 of
``validation run``): the test set loaded and checked against its data specification, the input
paths contained in their roots, the reader-study columns and the registry's record of the lock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from validation.errors import DataError


def _exclusion_rules(protocol: Any) -> list[Any]:
    from validation.data.testset import ExclusionRule

    return [
        ExclusionRule(reason=e.reason, column=e.column, values=tuple(e.values))
        for e in protocol.test_set.exclusions
    ]


def load_test_set(protocol: Any, protocol_dir: Path, *, executor: Any = None,
                  progress: Any = None) -> Any:
    """Step 2: the checked test set of ``protocol`` (manifest, exclusions, STARD flow).

    With an ``executor`` (``validation run --dask``) a text manifest is read and checked in
    row partitions on it (:mod:`validation.data.partitioned`; ``progress(done, total)``
    follows the partitions); the test set and every message are the in-process ones.
    """
    from validation.data.specs import is_text_table, load_spec, load_table
    from validation.data.testset import ExclusionRule, build_test_set
    from validation.protocol.load import resolve_data_spec

    manifest_path = protocol_dir / protocol.test_set.manifest
    spec = resolve_data_spec(protocol.test_set.data_spec, protocol_dir)
    if executor is not None and is_text_table(manifest_path):
        from validation.data.partitioned import load_table_parts

        manifest = load_table_parts(manifest_path, load_spec(str(spec)), executor=executor,
                                    what="test-set manifest", progress=progress)
    else:
        manifest = load_table(manifest_path, str(spec), what="test-set manifest")
    ind = protocol.test_set.indeterminate
    indeterminate: ExclusionRule | None = ExclusionRule(
        reason="indeterminate", column=ind.column, values=(True,)
    )
    if ind.column not in manifest.columns and ind.column == "non_diagnostic":
        indeterminate = None
    test_set = build_test_set(
        manifest,
        source=manifest_path.name,
        exclusions=_exclusion_rules(protocol),
        training_sites=list(protocol.model.training_sites),
        indeterminate=indeterminate,
        subgroup_columns={sg.id: sg.column for sg in protocol.subgroups},
    )
    # binned subgroups need a numeric column: refuse now, before any run folder exists
    from validation.analysis.subgroups import subgroup_levels
    from validation.errors import InputError

    problems = []
    for sg in protocol.subgroups:
        try:
            subgroup_levels(
                test_set.analysed[sg.column], bins=sg.bins, labels=sg.labels, name=sg.id
            )
        except InputError as exc:
            problems.append(str(exc))
    if problems:
        raise DataError(f"{manifest_path.name}: subgroups cannot be formed:", problems=problems)
    # a paired hypothesis needs the comparator's reading of every analysed case
    from validation.data.comparator import comparator_problems

    for h in protocol.hypotheses:
        if h.comparator_column is not None:
            problems += comparator_problems(
                test_set.analysed, h.comparator_column,
                endpoint_kind=protocol.endpoint(h.endpoint).kind,
                source=manifest_path.name, hypothesis=h.id,
            )
    if problems:
        raise DataError(f"{manifest_path.name}: the comparator of a paired hypothesis cannot be "
                        "used:", problems=problems)
    return test_set


def _check_registry_lock(registry: Any, lock_path: Path) -> None:
    """Refuse, before any run folder exists, a lock the registry would refuse at sealing."""
    from validation.provenance.approvals import load_lock, lock_fields
    from validation.provenance.registry import open_registry

    fields = lock_fields(load_lock(lock_path))
    reg = open_registry(registry)
    try:
        conflict = reg.protocol_lock_conflict(
            study_id=fields["study_id"], protocol_sha256=fields["protocol_sha256"],
            yaml_sha256=fields.get("yaml_sha256"))
    finally:
        if reg is not registry:
            reg.close()
    if conflict:
        from validation.errors import ProvenanceError

        raise ProvenanceError(f"{lock_path.name}: {conflict}")


def _check_contained_paths(protocol: Any, pdir: Path, test_set: Any,
                           allow_outside_artifact: bool) -> None:
    """Refuse, before any run folder exists, inputs outside the folders the dossier hashes:
    image paths leaving ``images_root`` (manifest row named) and a model artifact or card
    outside the protocol's folder unless ``allow_outside_artifact``."""
    from validation.data.paths import is_inside, outside_root_problems

    problems: list[str] = []
    root = protocol.test_set.images_root
    if root:
        problems += outside_root_problems(test_set.manifest, "image", pdir / root,
                                          source=protocol.test_set.manifest)
    if not allow_outside_artifact:
        for name in ("artifact", "card"):
            value = getattr(protocol.model, name, None)
            if value and not is_inside(value, pdir):
                problems.append(
                    f"model.{name} {value!r} lies outside the protocol's folder; move it beside "
                    "the protocol, or pass --allow-artifact-outside to use it where it is "
                    "(it is still hashed into inputs.json)")
    if problems:
        raise DataError("inputs outside the folders the dossier covers:", problems=problems)


def _check_reader_columns(protocol: Any) -> None:
    mrmc = [e.id for e in protocol.endpoints
            if e.kind.startswith("mrmc_") and e.kind != "mrmc_wafroc"]  # JAFROC reads marks
    if mrmc and protocol.reader_study is None:
        raise DataError(
            f"endpoints {', '.join(mrmc)} need a reader study, and the protocol has none."
        )
