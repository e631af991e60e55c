"""A worker process for the concurrency and kill tests: ingests one batch.

``python surv_worker.py PLAN BATCH URL MODE [START]``; MODE ``plain`` ingests (after
sleeping until the epoch time START, so that two workers start together); ``before-commit``,
``in-transaction`` and ``after-commit`` print a line and stall at that point, to be killed.
Exit 0 ingested, 2 refused (the message on stderr).
"""

from __future__ import annotations

import sys
import time


def _stall(tag: str) -> None:
    print(tag, flush=True)
    time.sleep(600)


def main() -> int:
    plan, batch, url, mode = sys.argv[1:5]
    start = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
    from validation.errors import ValidationError
    from validation.provenance import registry as reg_mod
    from validation.surveillance import ingest as ingest_mod

    if mode == "before-commit":
        real_write = ingest_mod.write_frame

        def write_then_stall(*args, **kwargs):  # type: ignore[no-untyped-def]
            sha = real_write(*args, **kwargs)
            _stall("WRITTEN")
            return sha

        ingest_mod.write_frame = write_then_stall
    elif mode == "in-transaction":
        real_append = reg_mod.Registry.append

        def append_then_stall(session, **kwargs):  # type: ignore[no-untyped-def]
            entry = real_append(session, **kwargs)
            if kwargs.get("action") == "surveillance.data":
                session.flush()
                _stall("INSIDE")
            return entry

        reg_mod.Registry.append = staticmethod(append_then_stall)  # type: ignore[method-assign]
    elif mode == "after-commit":
        def stall_alarms(*args, **kwargs):  # type: ignore[no-untyped-def]
            _stall("COMMITTED")

        ingest_mod.write_alarms = stall_alarms  # type: ignore[assignment]
    if start:
        time.sleep(max(0.0, start - time.time()))
    try:
        result = ingest_mod.ingest_batch(plan, batch, registry=url)
    except ValidationError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"OK {result.batch_id} new={result.new}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
