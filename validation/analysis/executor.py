"""Where the analysis's independent pieces run: in this process, or as tasks on Dask.

The engine cuts its per-case work into independent tasks: each endpoint's statistic on each
subset (pooled, each site, each subgroup level, each indeterminate-handling scenario), the
per-site confusion counts and the ROC curve with its bootstrap band. A task is a pure function
of the analysed cases, the rows of its subset and fixed parameters (seeds included), so where it
runs cannot change its value: the results are gathered back in the engine's order and
``results.json`` is byte-identical to the in-process run.

On Dask the analysed cases are scattered to every worker once; a task carries only its row
positions and parameters, and brings back its (small) result dictionary. With ``--dask`` the
test-set manifest and the predictions are also read and checked here, partition by partition
(``validation/data/partitioned.py``), and joined (``validation/data/predictions.py``).

Every task runs with one BLAS thread (:func:`one_blas_thread`), here and on a worker: a matrix
product split over threads adds in another order, which changes the last bits of, for
instance, Obuchowski's variance at 1e5 cases, and Dask's workers run with one thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

Progress = Callable[[int, int], None]
"""``update(done, total)`` of a progress bar."""


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block with one BLAS (and OpenMP) thread, so sums never depend on the cores."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def _one_thread_task(fn: Callable[..., Any], *args: Any) -> Any:
    with one_blas_thread():
        return fn(*args)


class InProcess:
    """Runs every task here, in order."""

    def share(self, obj: Any) -> Any:
        """A handle to ``obj`` that tasks receive as their first argument."""
        return obj

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any],
            progress: Progress | None = None) -> list[Any]:
        """``[fn(*args) for args in zip(*iterables)]``, with one BLAS thread."""
        columns = [list(it) for it in iterables]
        n = len(columns[0]) if columns else 0
        out: list[Any] = []
        with one_blas_thread():
            for args in zip(*columns, strict=True):
                out.append(fn(*args))
                if progress is not None:
                    progress(len(out), n)
        return out

    def close(self) -> None:
        return None


class OnDask:
    """Runs tasks on a Dask cluster: ``"local"`` starts a LocalCluster, else an address (both
    when the first task is sent: a run refused before that starts no cluster).

    Parameters
    ----------
    scheduler : ``"local"`` or a scheduler address such as ``tcp://host:8786``.
    n_workers : workers of a LocalCluster (ignored for an address).
    """

    def __init__(self, scheduler: str, *, n_workers: int = 2) -> None:
        from validation.models.dask_runner import check_scheduler

        self._scheduler = check_scheduler(scheduler)
        self._n_workers = n_workers
        self._client: Any = None
        self._cluster: Any = None

    @property
    def client(self) -> Any:
        """The Dask client, connected (or its LocalCluster started) on first use."""
        if self._client is None:
            from validation.models.dask_runner import _client

            self._client, self._cluster = _client(self._scheduler, self._n_workers, True)
        return self._client

    def share(self, obj: Any) -> Any:
        return self.client.scatter(obj, broadcast=True)

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any],
            progress: Progress | None = None) -> list[Any]:
        """The tasks on the cluster (one BLAS thread each), results in the order given."""
        columns: Sequence[list[Any]] = [list(it) for it in iterables]
        futures = [self.client.submit(_one_thread_task, fn, *args, pure=False)
                   for args in zip(*columns, strict=True)]
        if progress is not None:
            from distributed import as_completed

            for done, _ in enumerate(as_completed(futures), start=1):
                progress(done, len(futures))
        return list(self.client.gather(futures))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None


def make_executor(scheduler: str | None) -> InProcess | OnDask:
    """``None``: in process; otherwise Dask at ``scheduler`` (``"local"`` or an address)."""
    return InProcess() if scheduler is None else OnDask(scheduler)
