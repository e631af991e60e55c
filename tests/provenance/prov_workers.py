"""Worker processes for the concurrency tests (imported by spawned children)."""

from __future__ import annotations


def append_entries(url: str, tag: str, n: int, barrier) -> None:  # type: ignore[no-untyped-def]
    from validation.provenance.registry import Registry

    reg = Registry(url)
    barrier.wait(timeout=60)  # every worker starts writing at the same moment
    for i in range(n):
        reg.log(actor=tag, action="note", subject=f"{tag}-{i}", payload={"tag": tag, "i": i})
        if i % 5 == 0:  # and records with unique keys, some raced by every worker
            reg.record_run(run_id=f"run-{tag}-{i}", study_id="S", manifest_sha256="a" * 64,
                           n_files=1, operator=tag)
            reg.record_surveillance_batch(plan_id="P", batch_id=f"batch-{i}",
                                          batch_sha256="b" * 64, n_cases=10, operator=tag)
    reg.close()
