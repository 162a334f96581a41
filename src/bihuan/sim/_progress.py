"""Progress reporting for long steps: a Rich bar on a terminal, a callback, or silence."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

ProgressCallback = Callable[[str, int, int], None]
"""Called with (step description, units done, units in the step)."""


class Step(Protocol):
    def advance(self, units: int = 1) -> None: ...


class Reporter(Protocol):
    def step(self, description: str, total: int) -> Step: ...


class _CallbackStep:
    def __init__(self, callback: ProgressCallback | None, description: str, total: int) -> None:
        self._callback, self._description, self._total, self._done = callback, description, total, 0

    def advance(self, units: int = 1) -> None:
        self._done += units
        if self._callback is not None:
            self._callback(self._description, self._done, self._total)


class _CallbackReporter:
    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback

    def step(self, description: str, total: int) -> Step:
        return _CallbackStep(self._callback, description, total)


class _RichStep:
    def __init__(self, bar: object, task: object) -> None:
        self._bar, self._task = bar, task

    def advance(self, units: int = 1) -> None:
        self._bar.advance(self._task, units)  # type: ignore[attr-defined]


class _RichReporter:
    def __init__(self, bar: object) -> None:
        self._bar = bar

    def step(self, description: str, total: int) -> Step:
        return _RichStep(self._bar, self._bar.add_task(description, total=total))  # type: ignore[attr-defined]


@contextmanager
def reporter(progress: bool | ProgressCallback) -> Iterator[Reporter]:
    """A Rich progress bar when ``progress`` is True, the callback when one is given, else nothing."""
    if progress is True:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, transient=False) as bar:
            yield _RichReporter(bar)
    elif callable(progress):
        yield _CallbackReporter(progress)
    else:
        yield _CallbackReporter(None)
