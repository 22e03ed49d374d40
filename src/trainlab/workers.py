"""Independent jobs spread over worker processes, one CPU thread each.

Work made of small tensor operations (minibatches of 10 through layers of a
few hundred units) does not speed up with intra-op threads (see
:mod:`trainlab.threads`), but independent models do: on two cores, two
processes each training one population take about half the time of one after
the other. Workers are spawned (a fresh interpreter, no forked torch state);
the jobs' results come back in the jobs' order, so the outcome does not depend
on how many workers ran them.
"""
from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

import torch

T = TypeVar("T")


def _one_thread() -> None:
    torch.set_num_threads(1)


def run_jobs(fn: Callable[..., T], jobs: Sequence[tuple[Any, ...]], *, workers: int,
             on_done: Callable[[int, float], None] | None = None) -> list[T]:
    """``[fn(*job) for job in jobs]``, with up to ``workers`` processes.

    ``fn`` must be a module-level function and the jobs picklable. Give the
    longest jobs first: they are handed out in order as workers free up.
    ``on_done(index, elapsed)`` is called in this process as each job ends,
    with the seconds since the first job started.
    With ``workers <= 1`` (or one job) everything runs here, one after another.
    An exception in a job is raised here; jobs not yet started are dropped.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    started = time.perf_counter()
    if workers == 1 or len(jobs) <= 1:
        results = []
        for i, job in enumerate(jobs):
            results.append(fn(*job))
            if on_done is not None:
                on_done(i, time.perf_counter() - started)
        return results
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context,
                             initializer=_one_thread) as pool:
        futures = [pool.submit(fn, *job) for job in jobs]
        try:
            if on_done is not None:
                index = {f: i for i, f in enumerate(futures)}
                for future in as_completed(futures):
                    future.result()
                    on_done(index[future], time.perf_counter() - started)
            return [f.result() for f in futures]
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
