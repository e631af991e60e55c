"""What a run tells its operator on stderr: one line per step, a rich bar for long steps.

Quiet (``enabled=False``) it prints nothing and its bars are no-ops of the same interface, so
the pipeline and the engine call them unconditionally.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class RunProgress:
    """Step lines and progress bars of one run (stderr)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._console: Any = None
        if enabled:
            from rich.console import Console

            self._console = Console(stderr=True)

    def step(self, text: str) -> None:
        if self._console is not None:
            self._console.print(f"[bold]>[/bold] {text}", highlight=False)

    @contextmanager
    def bar(self, text: str) -> Iterator[Callable[[int, int], None]]:
        """A progress bar for a long step: yields ``update(done, total)``."""
        if self._console is None:
            yield lambda done, total: None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn(f"  {text}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=self._console, transient=False) as bar:
            task = bar.add_task(text, total=None)

            def update(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            yield update


__all__ = ["RunProgress"]
