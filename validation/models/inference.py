"""Deterministic, resumable, hash-recorded inference of a locked image model.

The cases are cut into fixed batches (case ``i`` always lands in batch ``i // batch_size``),
so a batch holds the same images whether the run is fresh, resumed or distributed; together
with ``torch.inference_mode``, deterministic algorithms and a fixed seed, the same model on the
same images gives the same scores bit for bit (on the same platform and torch build).

Images are read, hashed and decoded in DataLoader worker processes; the model runs in the main
process. After each completed batch its rows are written atomically to
``<out>.partial/batch-NNNNNN.parquet``; a killed run started again with the same model, cases
and batch size skips the batches already there (after re-hashing their images) and the final
``predictions.parquet`` is byte-identical to an uninterrupted run. The final file is written
atomically only when every case has a score; until then nothing named ``predictions.parquet``
exists.

Every row carries ``case_id``, ``score``, ``model_sha256`` and ``input_sha256`` (the SHA-256 of
the image file's bytes, the same bytes that were decoded).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from validation._atomic import write_bytes_atomic, write_text_atomic
from validation.constants import DEFAULT_SEED
from validation.errors import DataError, InputError, ValidationError
from validation.models.artifact import LockedModel
from validation.models.card import InputSpec
from validation.models.images import decode_image

PREDICTION_COLUMNS = ("case_id", "score", "model_sha256", "input_sha256")
CHECKPOINT_VERSION = 1
DEFAULT_BATCH_SIZE = 32


@dataclass(frozen=True, slots=True)
class CaseImage:
    """One case to score: its id and the image file."""

    case_id: str
    path: Path


# ---------------------------------------------------------------------------------------------
# determinism


@contextlib.contextmanager
def deterministic_torch(seed: int) -> Iterator[None]:
    """Deterministic algorithms, no cuDNN autotuning and a seeded RNG, restored on exit."""
    import torch

    prev_det = torch.are_deterministic_algorithms_enabled()
    prev_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    prev_bench = torch.backends.cudnn.benchmark
    prev_cudnn_det = torch.backends.cudnn.deterministic
    if torch.cuda.is_available():
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield
    finally:
        torch.use_deterministic_algorithms(prev_det, warn_only=prev_warn)
        torch.backends.cudnn.benchmark = prev_bench
        torch.backends.cudnn.deterministic = prev_cudnn_det


# ---------------------------------------------------------------------------------------------
# reading one case (runs in DataLoader workers and on Dask workers)


def read_case(case: CaseImage, spec: InputSpec) -> tuple[np.ndarray | None, str | None, str | None]:
    """Read, hash and decode one image: ``(array, sha256, error message)``.

    Errors are returned, not raised, so that every bad image of a run can be reported at once.
    """
    try:
        data = case.path.read_bytes()
    except FileNotFoundError:
        return (
            None,
            None,
            f"case {case.case_id!r}: image '{case.path.name}' does not exist "
            f"(looked for '{case.path}')",
        )
    except OSError as exc:
        return None, None, f"case {case.case_id!r}: image '{case.path.name}' cannot be read: {exc}"
    sha = hashlib.sha256(data).hexdigest()
    try:
        arr = decode_image(data, case.path.name, spec, case_id=case.case_id)
    except ValidationError as exc:
        return None, sha, str(exc)
    return arr, sha, None


class _CaseDataset:
    """Map-style dataset for torch's DataLoader (picklable for worker processes)."""

    def __init__(self, cases: Sequence[CaseImage], spec: InputSpec) -> None:
        self.cases = list(cases)
        self.spec = spec

    def __len__(self) -> int:
        return len(self.cases)

    def __getitem__(self, i: int) -> tuple[int, np.ndarray | None, str | None, str | None]:
        arr, sha, err = read_case(self.cases[i], self.spec)
        return i, arr, sha, err


def _collate(items: list[tuple[int, Any, Any, Any]]) -> tuple[list[int], Any, list[Any], list[str]]:
    import torch

    idx = [it[0] for it in items]
    errors = [it[3] for it in items if it[3] is not None]
    shas = [it[2] for it in items]
    batch = None if errors else torch.from_numpy(np.stack([it[1] for it in items]))
    return idx, batch, shas, errors


# ---------------------------------------------------------------------------------------------
# checkpoints


def batches_of(n: int, batch_size: int) -> list[list[int]]:
    """Fixed batch boundaries: ``[[0..bs-1], [bs..2bs-1], ...]``."""
    return [list(range(s, min(s + batch_size, n))) for s in range(0, n, batch_size)]


def predictions_table(rows: dict[str, list[Any]]) -> Any:
    import pyarrow as pa

    return pa.table(
        {
            "case_id": pa.array(rows["case_id"], pa.string()),
            "score": pa.array(rows["score"], pa.float64()),
            "model_sha256": pa.array(rows["model_sha256"], pa.string()),
            "input_sha256": pa.array(rows["input_sha256"], pa.string()),
        }
    )


def table_bytes(table: Any) -> bytes:
    """Parquet bytes of a table, written the same way every time (no pandas metadata)."""
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", write_statistics=True)
    return buf.getvalue()


class Checkpoint:
    """The ``<out>.partial/`` folder of a run in progress."""

    def __init__(self, out_path: Path, state: dict[str, Any]) -> None:
        self.dir = out_path.with_name(out_path.name + ".partial")
        self.state = state

    def _batch_path(self, b: int) -> Path:
        return self.dir / f"batch-{b:06d}.parquet"

    def open(self) -> dict[int, Any]:
        """Create the folder, or reuse it when its state matches; return completed batches."""
        import pyarrow.parquet as pq

        state_file = self.dir / "state.json"
        done: dict[int, Any] = {}
        if self.dir.exists():
            try:
                old = json.loads(state_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                old = None
            if old != self.state:
                shutil.rmtree(self.dir)
            else:
                for f in sorted(self.dir.glob("batch-*.parquet")):
                    try:
                        done[int(f.stem.split("-")[1])] = pq.read_table(f)
                    except Exception:  # a torn file cannot exist (atomic writes), but be safe
                        f.unlink()
        self.dir.mkdir(parents=True, exist_ok=True)
        write_text_atomic(state_file, json.dumps(self.state, sort_keys=True))
        return done

    def save(self, b: int, table: Any) -> None:
        write_bytes_atomic(self._batch_path(b), table_bytes(table))

    def drop(self, b: int) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._batch_path(b).unlink()

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def run_state(
    model_sha256: str, cases: Sequence[CaseImage], spec: InputSpec, batch_size: int
) -> dict[str, Any]:
    """What a checkpoint must match to be resumed: model, case list, input spec, batching."""
    h = hashlib.sha256()
    for c in cases:
        h.update(c.case_id.encode("utf-8") + b"\x00" + str(c.path).encode("utf-8") + b"\x01")
    return {
        "version": CHECKPOINT_VERSION,
        "model_sha256": model_sha256,
        "cases_sha256": h.hexdigest(),
        "n_cases": len(cases),
        "batch_size": int(batch_size),
        "input_spec": spec.model_dump(mode="json"),
    }


def _still_valid(table: Any, idx: list[int], cases: Sequence[CaseImage]) -> bool:
    """A checkpointed batch counts only if its case ids match and its images are unchanged."""
    ids = table.column("case_id").to_pylist()
    if ids != [cases[i].case_id for i in idx]:
        return False
    shas = table.column("input_sha256").to_pylist()
    for i, sha in zip(idx, shas, strict=True):
        try:
            data = cases[i].path.read_bytes()
        except OSError:
            return False
        if hashlib.sha256(data).hexdigest() != sha:
            return False
    return True


def resume_plan(
    checkpoint: Checkpoint, cases: Sequence[CaseImage], batch_size: int
) -> tuple[list[list[int]], dict[int, Any]]:
    """Batches still to run and the checkpointed tables that remain valid."""
    batches = batches_of(len(cases), batch_size)
    done = checkpoint.open()
    valid: dict[int, Any] = {}
    for b, table in done.items():
        if b < len(batches) and _still_valid(table, batches[b], cases):
            valid[b] = table
        else:
            checkpoint.drop(b)
    pending = [batches[b] for b in range(len(batches)) if b not in valid]
    return pending, valid


def batch_table(
    idx: list[int],
    scores: np.ndarray,
    shas: list[str],
    cases: Sequence[CaseImage],
    model_sha256: str,
) -> Any:
    scores = np.asarray(scores, dtype=np.float64)
    if not np.isfinite(scores).all():
        bad = [cases[i].case_id for i, s in zip(idx, scores, strict=True) if not np.isfinite(s)]
        raise DataError(
            f"The model returned NaN or infinite scores for {len(bad)} case(s); "
            "no predictions were written.",
            problems=[f"case {c!r}" for c in bad],
        )
    return predictions_table(
        {
            "case_id": [cases[i].case_id for i in idx],
            "score": scores.tolist(),
            "model_sha256": [model_sha256] * len(idx),
            "input_sha256": list(shas),
        }
    )


def finish(
    out_path: Path,
    checkpoint: Checkpoint,
    tables: dict[int, Any],
    n_batches: int,
    problems: list[str],
) -> Path:
    """Raise with every problem, or write ``predictions.parquet`` atomically from all batches."""
    import pyarrow as pa

    if problems:
        raise DataError(
            f"{len(problems)} image(s) could not be used; no predictions file was written "
            f"(completed batches are kept in '{checkpoint.dir.name}/' and reused on the next run)",
            problems=problems,
        )
    missing = [b for b in range(n_batches) if b not in tables]
    if missing:  # pragma: no cover - guarded by the loops above
        raise DataError(f"Batches {missing[:10]} have no predictions; nothing was written.")
    table = (
        pa.concat_tables([tables[b] for b in range(n_batches)])
        if n_batches
        else predictions_table({k: [] for k in PREDICTION_COLUMNS})
    )
    write_bytes_atomic(out_path, table_bytes(table))
    checkpoint.remove()
    return out_path


# ---------------------------------------------------------------------------------------------
# progress


def progress_bar(enabled: bool) -> Any:
    """A rich progress bar with cases per second (disabled: a no-op of the same interface)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class CasesPerSecond(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text("-- cases/s" if speed is None else f"{speed:,.1f} cases/s")

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        CasesPerSecond(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
    )


# ---------------------------------------------------------------------------------------------
# the local runner


def check_cases(cases: Sequence[CaseImage]) -> list[CaseImage]:
    out = list(cases)
    seen: set[str] = set()
    dups: list[str] = []
    for c in out:
        if c.case_id in seen:
            dups.append(c.case_id)
        seen.add(c.case_id)
    if dups:
        raise DataError(
            f"Case ids must be unique; {len(dups)} duplicate(s).",
            problems=[f"case {d!r}" for d in dups[:50]],
        )
    return out


def check_run_options(batch_size: int, workers: int) -> None:
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise InputError(f"'batch_size' must be a positive integer; got {batch_size!r}.")
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 0:
        raise InputError(f"'workers' must be an integer >= 0; got {workers!r}.")


def run_inference(
    model: LockedModel,
    cases: Sequence[CaseImage],
    spec: InputSpec,
    out_path: str | os.PathLike[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    workers: int = 0,
    seed: int = DEFAULT_SEED,
    progress: bool = True,
) -> Path:
    """Score every case with the locked model and write ``predictions.parquet``.

    Parameters
    ----------
    model : a hash-verified :class:`~validation.models.artifact.LockedModel`
    cases : the cases in output order (ids unique)
    spec : the model card's input section
    out_path : the predictions file to write (atomically, at the end)
    batch_size : cases per batch; part of the checkpoint's identity
    workers : DataLoader worker processes reading and decoding images (0: in this process)
    seed : seeds torch's RNG (inside a forked RNG state) and the workers
    progress : show a rich progress bar with cases per second on stderr

    Returns
    -------
    Path of the predictions file.

    Raises
    ------
    DataError
        Missing, corrupt, wrong-size or wrong-channel images (all listed, by case and file) or
        non-finite scores. No predictions file is written; completed batches stay checkpointed.
    """
    import torch
    from torch.utils.data import DataLoader

    check_run_options(batch_size, workers)
    cases = check_cases(cases)
    out = Path(out_path)
    with contextlib.suppress(FileNotFoundError):
        out.unlink()  # a stale file from an earlier run must not look like this run's output
    checkpoint = Checkpoint(out, run_state(model.sha256, cases, spec, batch_size))
    pending, tables = resume_plan(checkpoint, cases, batch_size)
    n_batches = len(batches_of(len(cases), batch_size))
    problems: list[str] = []

    generator = torch.Generator()
    generator.manual_seed(seed)
    loader: Any = DataLoader(
        _CaseDataset(cases, spec),  # type: ignore[arg-type]
        batch_sampler=pending,
        num_workers=workers,
        collate_fn=_collate,
        generator=generator,
    )
    done_cases = sum(t.num_rows for t in tables.values())
    with deterministic_torch(seed), progress_bar(progress) as bar:
        task = bar.add_task("inference", total=len(cases), completed=done_cases)
        for idx, batch, shas, errors in loader:
            b = idx[0] // batch_size
            if errors:
                problems.extend(errors)
            else:
                scores = model.predict(batch.numpy())
                table = batch_table(idx, scores, shas, cases, model.sha256)
                checkpoint.save(b, table)
                tables[b] = table
            bar.advance(task, len(idx))
    return finish(out, checkpoint, tables, n_batches, problems)


def read_predictions(path: str | os.PathLike[str]) -> Any:
    """Read a predictions file as a DataFrame (case_id, score, model_sha256, input_sha256)."""
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pandas()
