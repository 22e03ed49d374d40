"""Jobs in worker processes: the same results, in the same order, as one after another."""
from __future__ import annotations

import pytest
import torch

from trainlab.errors import UserError
from trainlab.workers import run_jobs


def seeded_sum(seed: int, n: int) -> tuple[float, int]:
    """A job whose result depends only on its arguments; also reports its process's thread count."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, generator=generator, dtype=torch.float64).sum().item(), torch.get_num_threads()


def fails(message: str) -> None:
    raise UserError(message)


def test_two_workers_give_the_results_of_one_in_job_order():
    jobs = [(seed, 1000 + seed) for seed in range(5)]
    done: list[int] = []
    alone = run_jobs(seeded_sum, jobs, workers=1)
    spread = run_jobs(seeded_sum, jobs, workers=2, on_done=lambda i, elapsed: done.append(i))
    assert [value for value, _ in spread] == [value for value, _ in alone]
    expected = torch.randn(1000, generator=torch.Generator().manual_seed(0), dtype=torch.float64).sum().item()
    assert alone[0][0] == expected
    assert all(threads == 1 for _, threads in spread)
    assert sorted(done) == list(range(5))


def test_an_error_in_a_worker_reaches_the_caller_with_its_message():
    with pytest.raises(UserError, match="no such thing"):
        run_jobs(fails, [("no such thing",), ("no such thing",)], workers=2)


def test_workers_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        run_jobs(seeded_sum, [(0, 1)], workers=0)
