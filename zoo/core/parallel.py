"""Map a function over items in forked worker processes: what re-scoring uses to read and score many
sequences at once (``workers=N``).

Workers are forked, so ``fn`` and ``items`` reach them by inheritance rather than by pickling (closures
work); only indices go out and results come back pickled. Where ``fork`` is unavailable (Windows, macOS
defaults aside) or there is one worker or one item, the same loop runs in this process. Exceptions raised by
``fn`` are re-raised here unchanged (they must be picklable, as :class:`zoo.data.formats.FormatError` is).
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from typing import Any, TypeVar

__all__ = ["default_workers", "parallel_map"]

T = TypeVar("T")
R = TypeVar("R")

# (fn, items) of the map in progress: set before the pool forks, read by the workers.
_JOB: tuple[Callable[[int, Any], Any], Sequence[Any]] | None = None


def default_workers() -> int:
    """The CPU cores this process may use (its affinity mask where the OS reports one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _run(index: int) -> Any:
    assert _JOB is not None, "parallel_map worker started without a job"
    fn, items = _JOB
    return fn(index, items[index])


def parallel_map(
    fn: Callable[[int, T], R],
    items: Sequence[T],
    workers: int | None = None,
    *,
    order: Sequence[int] | None = None,
    on_result: Callable[[int, R], None] | None = None,
    on_start: Callable[[], None] | None = None,
) -> list[R]:
    """``[fn(i, items[i]) for i in range(len(items))]``, computed by up to ``workers`` processes.

    Args:
        fn: ``fn(index, item) -> result``; results must be picklable when ``workers > 1``.
        items: the work.
        workers: processes (None: :func:`default_workers`); 1 runs everything in this process.
        order: the order to hand items out (e.g. longest first, for balance); default index order.
        on_result: called here as each result arrives (progress bars), with its index.
        on_start: called once the workers exist and before the first result is awaited (start a progress
            display here: forking after its refresh thread starts would copy a running thread).

    Returns:
        the results in index order.
    """
    global _JOB
    n = len(items)
    todo = list(range(n)) if order is None else [int(i) for i in order]
    if sorted(todo) != list(range(n)):
        raise ValueError(f"order must be a permutation of range({n})")
    workers = default_workers() if workers is None else int(workers)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    results: list[Any] = [None] * n
    if workers == 1 or n <= 1 or "fork" not in mp.get_all_start_methods():
        if on_start is not None:
            on_start()
        for i in todo:
            results[i] = fn(i, items[i])
            if on_result is not None:
                on_result(i, results[i])
        return results
    if _JOB is not None:
        raise RuntimeError("parallel_map is not re-entrant (a worker may not start its own pool)")
    _JOB = (fn, items)
    try:
        with ProcessPoolExecutor(max_workers=min(workers, n), mp_context=mp.get_context("fork")) as pool:
            futures = {pool.submit(_run, i): i for i in todo}  # forks the workers now
            if on_start is not None:
                on_start()
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for fut in sorted(done, key=lambda f: todo.index(futures[f])):
                    i = futures[fut]
                    error = fut.exception()
                    if error is not None:
                        for other in pending:
                            other.cancel()
                        raise error
                    results[i] = fut.result()
                    if on_result is not None:
                        on_result(i, results[i])
    finally:
        _JOB = None
    return results
