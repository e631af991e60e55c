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


def take_governed_access(url: str, run_dir: str, run_id: str, test_set_sha256: str,
                         barrier) -> None:  # type: ignore[no-untyped-def]
    """A governed access as ``validation change`` makes it: the early check, then the
    record; exit 2 when refused (as the command line does)."""
    import sys

    from validation.errors import InputError
    from validation.provenance.access_log import record_test_set_access
    from validation.provenance.governance import authorise_access
    from validation.provenance.registry import Registry

    reg = Registry(url)
    barrier.wait(timeout=60)  # both workers ask for the last unit at the same moment
    try:
        authorise_access(reg, test_set_sha256=test_set_sha256, test_set_id="S-1",
                         operator="ada@example.org", budget=2, authorised=["ada@example.org"],
                         purpose="run", subject=run_id)
        barrier.wait(timeout=60)  # both passed the early check: the worst interleaving
        record_test_set_access(reg, run_dir=run_dir, run_id=run_id, model_sha256="c" * 64,
                               study_id="S-1", operator="ada@example.org",
                               test_set_sha256=test_set_sha256)
    except InputError:
        sys.exit(2)
    finally:
        reg.close()
