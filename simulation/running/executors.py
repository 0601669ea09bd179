"""Where runs execute: in this process, or on a local pool of fresh interpreters.

Any ``concurrent.futures``-style executor works for sweeps (e.g. a Dask
``client.get_executor(pure=False)``); the model never knows where it runs.

The local pool's workers are forked from a fork server (``multiprocessing``'s "forkserver": a
fresh interpreter, started once per driver process, that imports the toolkit's running modules
once, :data:`PRELOAD`), so each worker starts as a fresh interpreter would, without paying the
imports again (about a second of CPU per worker); where there is no fork server, "spawn".
A worker also stops numpy from asking for transparent huge pages (:func:`small_pages`).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from multiprocessing.connection import Connection
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


def _exit_with_driver(alive: Connection) -> None:
    """Worker initializer: end this worker when the driver dies (e.g. SIGKILL), instead of
    waiting forever on a queue whose other end is gone: ``alive`` is the reading end of a pipe
    whose only writing end the driver keeps (with the pool), so it reads end-of-file then. (Not
    the parent process: a forked worker's parent is the fork server, which lives on while the
    workers do.)"""

    def watch() -> None:
        try:
            alive.recv_bytes()  # nothing is ever sent: returns (raises) when the driver's end closes
        except (EOFError, OSError):
            pass
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-driver", daemon=True).start()


def small_pages() -> bool:
    """Stop numpy from advising the kernel to back its arrays of 4 MB and more with transparent
    huge pages (``madvise``; numpy's ``NUMPY_MADVISE_HUGEPAGE=0``) in this process; returns the
    advice given until now. Only speed changes, never a number: a batch of runs allocates and frees
    such arrays (the stage accounts' stacked systems, years x runs x stages x stages) again and
    again, and where the kernel honours the advice (``/sys/kernel/mm/transparent_hugepage/enabled``
    ``madvise``) each fresh one costs huge-page faults, compaction and zeroing in system time:
    about 0.5 ms of CPU a run of the default scenario in batches of 100, half of it in the
    stage accounts (``benchmarks/sweep_account.py``, issue 17)."""
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:  # numpy < 2
        try:
            from numpy.core.multiarray import _set_madvise_hugepage
        except ImportError:  # a private function: a numpy without it keeps its advice (speed only)
            return False
    return bool(_set_madvise_hugepage(False))


def _init_worker(alive: Connection) -> None:
    """The local pool's worker initializer: :func:`_exit_with_driver` and :func:`small_pages`."""
    _exit_with_driver(alive)
    small_pages()


_PACKAGE = __package__.rsplit(".", 1)[0]  # valuechain.simulation
PRELOAD = (f"{_PACKAGE}.running.sweeps", f"{_PACKAGE}.abm.model", f"{_PACKAGE}.abm.batch", f"{_PACKAGE}.abm.preload")
"""What the fork server imports once, before it forks workers: a sweep batch's modules (numpy,
pandas, pyarrow, pydantic, mesa, scipy and the model), and the compiled kernels loaded
(``abm.preload``)."""


def pool_context() -> multiprocessing.context.BaseContext:
    """The local pool's start method: "forkserver" (preloading :data:`PRELOAD`), else "spawn".
    Either way a worker is a fresh interpreter: the same behaviour whatever the driver imported
    (mesa.batchrunner sets the global start method) and no fork of a threaded driver."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))  # used when the server starts (once per driver process)
    return context


def start_pool_server() -> None:
    """Start the fork server now (it imports :data:`PRELOAD` while the driver plans the sweep);
    nothing where pools spawn."""
    context = pool_context()
    if context.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` fresh interpreters (:func:`pool_context`), each started by :func:`_init_worker`."""
    context = pool_context()
    alive, keep = context.Pipe(duplex=False)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(alive,))
    pool._valuechain_alive = keep  # type: ignore[attr-defined]  # the workers end when it closes (driver gone)
    return pool


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
