"""Where runs execute: in this process, or on a local pool of fresh interpreters.

Any ``concurrent.futures``-style executor works for sweeps (e.g. a Dask
``client.get_executor(pure=False)``); the model never knows where it runs.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any


class InProcessExecutor(Executor):
    """Runs each submitted call at once in this process (``--workers 1``)."""

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


def _exit_with_parent(parent_pid: int) -> None:
    """Worker initializer: end this worker if the driver dies (e.g. SIGKILL), instead of
    waiting forever on a queue whose other end is gone."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of fresh interpreters ("spawn"): the same behaviour whatever was imported before
    (mesa.batchrunner sets the global start method) and no fork of a threaded driver."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_exit_with_parent, initargs=(os.getpid(),))


def default_workers() -> int:
    """One worker per core available to this process."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


WORKERS_PER_CORE = 4  # at most this many worker processes per available core


def cap_workers(workers: int, n_runs: int) -> int:
    """``workers`` capped at the number of runs and at ``WORKERS_PER_CORE`` x the cores: more
    processes than runs (or than the machine can serve) only cost memory and start-up time."""
    return max(1, min(workers, n_runs, WORKERS_PER_CORE * default_workers()))
