"""The rules judged on a hand-built :class:`Seen`: synthetic loss curves, label batches and probe records, each
threshold of :mod:`trainlab.watcher.rules` on both sides of its boundary."""
from __future__ import annotations

import math
import statistics
from collections import Counter
from typing import Sequence

import pytest
import torch

from trainlab.probe import PERCENTILES, Histogram, LayerStats, ProbeRecord, TensorStats
from trainlab.watcher.findings import CATALOGUE, Finding
from trainlab.watcher.observe import (
    LABEL_WINDOW,
    MIN_LABEL_BATCH,
    SMALL_BATCH,
    LabelBatch,
    LabelWindow,
    Seen,
    label_counts,
)
from trainlab.watcher.rules import RULES, judge


def same(finding: Finding, expected: dict[str, object], rel: float = 1e-6) -> bool:
    """The finding's numbers under ``expected``'s keys (a rule may record more) match it."""
    return all(finding.numbers.get(k) == (pytest.approx(v, rel=rel) if isinstance(v, float) else v)
               for k, v in expected.items())


def found(seen: Seen, *, final: bool = False) -> dict[str, Finding]:
    return {f.id: f for f in judge(seen, set(), final=final)}


# -- the catalogue -------------------------------------------------------------------------------------------
def test_one_rule_per_catalogue_id() -> None:
    assert sorted(RULES) == sorted(CATALOGUE)
    assert found(Seen()) == {} and found(Seen(), final=True) == {}


def test_finding_defaults_and_round_trip() -> None:
    f = Finding("dead-relu", 1250, "90% of the units of '3' never activate", numbers={"dead": 0.9})
    assert f.advice == CATALOGUE["dead-relu"].advice and f.title == CATALOGUE["dead-relu"].title
    assert f.line() == f"[dead-relu] step 1,250: 90% of the units of '3' never activate. {f.advice}"
    g = f.explained("diverging")
    assert g.explained_by == "diverging" and "(follows from diverging)" in g.line() and f.explained_by is None
    assert Finding.from_dict(g.to_dict()) == g
    with pytest.raises(ValueError, match="unknown finding id 'dead-reLU'"):
        Finding("dead-reLU", 0, "")


def test_known_ids_are_not_judged_again() -> None:
    seen = with_labels([{3: 16}] * 10)
    assert [f.id for f in judge(seen, set())] == ["constant-labels"]
    assert judge(seen, {"constant-labels"}) == []


# -- the loss ----------------------------------------------------------------------------------------------------
def with_losses(losses: Sequence[float], *, every: int = 10) -> dict[str, Finding]:
    """Feed ``losses`` one step at a time and judge at every ``every``-th step and at the end, as the watcher does."""
    seen, out = Seen(), {}
    for step, value in enumerate(losses):
        seen.add_loss(step, float(value))
        seen.step = step + 1
        if step % every == 0:
            seen.checks.append(step)
            out |= {f.id: f for f in judge(seen, set(out))}
    return out | {f.id: f for f in judge(seen, set(out), final=True)}


def steps_of(window_means: Sequence[float]) -> list[float]:
    """Ten steps per window, each window at its mean."""
    return [m for m in window_means for _ in range(10)]


def noise(n: int, scale: float, seed: int = 0) -> torch.Tensor:
    return scale * torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_a_healthy_noisy_decreasing_curve_gives_nothing() -> None:
    t = torch.arange(300, dtype=torch.float64)
    level = 0.2 + 2.1 * torch.exp(-t / 60)
    assert with_losses((level * (1 + noise(300, 0.15))).tolist()) == {}


def test_a_converged_noisy_plateau_after_a_big_drop_gives_nothing() -> None:
    t = torch.arange(300, dtype=torch.float64)
    level = 0.05 + 2.25 * torch.exp(-t / 8)  # down to its floor within 40 steps, then noise of 60% of it
    assert with_losses((level * (1 + noise(300, 0.6)).abs()).tolist()) == {}


def test_a_curve_rising_4x_is_diverging() -> None:
    losses = [4 ** (t / 20) for t in range(30)]  # 4x every 20 steps
    start = min(losses[0], statistics.median(losses[:10]))  # the first loss, or the first window's median
    second, third = (math.fsum(losses[i:i + 10]) / 10 for i in (10, 20))
    assert second < 3 * start < third
    out = with_losses(losses)
    assert list(out) == ["diverging"]
    assert out["diverging"].step == 29 and same(out["diverging"], {"start": start, "window": third}, rel=1e-12)


@pytest.mark.parametrize("later, diverging", [(3.0, False), (3.0001, True), (math.nan, True), (math.inf, True)])
def test_diverging_is_above_three_times_the_first_window(later: float, diverging: bool) -> None:
    assert ("diverging" in with_losses(steps_of([1.0, later]))) is diverging


@pytest.mark.parametrize("best, flat", [(0.951, True), (0.949, False)])
def test_loss_flat_is_less_than_5_percent_below_the_start(best: float, flat: bool) -> None:
    out = with_losses(steps_of([1.0, 0.99, best, 0.98, 1.0, 0.99]))
    assert list(out) == (["loss-flat"] if flat else [])


def test_a_flat_curve_is_loss_flat_after_50_steps_only() -> None:
    flat = (1.0 + noise(60, 0.02)).tolist()
    assert with_losses(flat[:50]) == {}  # the fifth window ends at step 49
    out = with_losses(flat)
    assert list(out) == ["loss-flat"] and out["loss-flat"].step == 59


def test_a_loss_of_zero_from_the_start_is_not_flat() -> None:
    assert with_losses([0.0] * 60) == {}


def test_a_sawtooth_is_oscillating() -> None:
    means = [1.5] + [1.0, 2.0] * 3  # the first window, then six swinging between 1 and 2
    out = with_losses((torch.tensor(steps_of(means), dtype=torch.float64) + noise(70, 0.05)).tolist())
    assert list(out) == ["loss-oscillating"] and out["loss-oscillating"].step == 69
    assert out["loss-oscillating"].numbers["smoothness"] == pytest.approx(1 - 4 / 5)


@pytest.mark.parametrize("recent, oscillating", [
    ([1.0, 2.0, 1.0, 2.0, 2.5, 1.2], True),  # 3 direction changes in 5 changes: smoothness 0.4
    ([1.0, 2.0, 1.0, 2.0, 3.0, 4.0], False),  # 2 of 5: smoothness 0.6
], ids=["3 turns", "2 turns"])
def test_oscillation_needs_turns(recent: list[float], oscillating: bool) -> None:
    assert ("loss-oscillating" in with_losses(steps_of([1.5, *recent]))) is oscillating


@pytest.mark.parametrize("high, oscillating", [(1.66, False), (1.67, True)])  # (x - 1) / ((x + 1) / 2) > 0.5: x > 5/3
def test_oscillation_swings_more_than_half_the_mean(high: float, oscillating: bool) -> None:
    assert ("loss-oscillating" in with_losses(steps_of([1.5] + [1.0, high] * 3))) is oscillating


@pytest.mark.parametrize("start, oscillating", [(2.9, True), (3.1, False)])
def test_oscillation_is_stuck_above_half_the_start(start: float, oscillating: bool) -> None:
    # the six windows' mean is 1.5: above half of a start of 2.9, below half of 3.1 (then the loss did fall)
    assert ("loss-oscillating" in with_losses(steps_of([start] + [1.0, 2.0] * 3))) is oscillating


def test_oscillation_is_stuck_when_the_last_window_is_not_10_percent_lower() -> None:
    assert "loss-oscillating" not in with_losses(steps_of([1.5] + [2.0, 1.0] * 3))  # ends 50% below its start
    assert "loss-oscillating" in with_losses(steps_of([1.5] + [2.0, 1.0] * 3 + [2.0]))  # one window later


def test_non_finite_after_a_rising_loss_follows_from_diverging() -> None:
    for losses, cause in ((steps_of([1.0, 1.5, 3.5]), "diverging"), (steps_of([1.0, 0.9, 0.8]), None)):
        seen = Seen()
        for step, v in enumerate(losses):
            seen.add_loss(step, v)
        seen.step, seen.nonfinite = len(losses), {"step": len(losses), "where": "the loss", "detail": "NaN"}
        f = found(seen)["non-finite"]
        assert f.explained_by == cause and f.evidence == "NaN/Inf first seen in the loss: NaN"


# -- the labels ------------------------------------------------------------------------------------------------
def with_labels(batches: Sequence[dict[int, int]]) -> Seen:
    seen = Seen()
    for step, counts in enumerate(batches):
        seen.labels.append(LabelBatch(step, sum(counts.values()), counts))
    seen.step = len(batches)
    return seen


def label_ids(batches: Sequence[dict[int, int]]) -> list[str]:
    return list(found(with_labels(batches)))


def counts_of(labels: torch.Tensor) -> dict[int, int]:
    values, counts = labels.unique(return_counts=True)
    return dict(zip(values.tolist(), counts.tolist()))


def test_shuffled_batches_give_nothing() -> None:
    g = torch.Generator().manual_seed(0)
    assert label_ids([counts_of(torch.randint(0, 10, (32,), generator=g)) for _ in range(50)]) == []


def test_sorted_runs_are_unshuffled() -> None:
    seen = with_labels([{c: 32} for c in range(4) for _ in range(3)])  # 3 batches of each label in turn
    f = found(seen)["unshuffled"]
    assert list(found(seen)) == ["unshuffled"]
    assert same(f, {"within_bits": 0.0, "pooled_bits": 2.0})


def test_one_label_is_constant_not_unshuffled() -> None:
    assert label_ids([{7: 32}] * 10) == ["constant-labels"]


@pytest.mark.parametrize("batches, constant", [
    ([{7: 32}] * 9, False),  # ten batches are needed
    ([{7: 7}] * 10, False),  # batches under 8 labels are not looked at
    ([{7: 8}] * 10, True),
    ([{1: 32}, {7: 32}] * 10, False),  # one label in each batch, but not the same one
    ([{1: 16, 2: 16}] * 10 + [{7: 32}] * 10, True),
    ([{7: 32}] * 10 + [{7: 31, 1: 1}], False),
], ids=["9 batches", "size 7", "size 8", "two labels", "the last ten", "one off"])
def test_constant_labels_boundaries(batches: list[dict[int, int]], constant: bool) -> None:
    assert ("constant-labels" in label_ids(batches)) is constant


@pytest.mark.parametrize("size", [1, 128, SMALL_BATCH, SMALL_BATCH + 1])
def test_label_counts_are_uniques_counts_in_label_order(size: int) -> None:
    labels = torch.randint(0, 37, (size,), generator=torch.Generator().manual_seed(size))
    values, counts = labels.unique(return_counts=True)
    got = label_counts(labels)
    assert list(got.items()) == list(zip(values.tolist(), counts.tolist()))


def test_label_window_pools_the_last_batches_as_a_recount_does() -> None:
    g = torch.Generator().manual_seed(0)
    window, batches = LabelWindow(), []
    for step in range(3 * LABEL_WINDOW):
        size = int(torch.randint(1, 2 * MIN_LABEL_BATCH, (1,), generator=g))  # batches on both sides of the floor
        batch = LabelBatch(step, size, counts_of(torch.randint(0, 4, (size,), generator=g)))
        window.append(batch)
        batches.append(batch)
        last = batches[-LABEL_WINDOW:]
        full = [b for b in last if b.size >= MIN_LABEL_BATCH]
        recount = Counter(k for b in last for k, n in b.counts.items() for _ in range(n))
        assert list(window) == last and window.full() == full
        assert window.pooled() == dict(recount)
        assert window.pooled(ignore=2) == {k: v for k, v in recount.items() if k != 2}
        assert window.pooled(full_only=True) == dict(Counter(k for b in full for k, n in b.counts.items()
                                                             for _ in range(n)))


def test_unshuffled_is_below_half_the_pooled_entropy() -> None:
    # batches of two classes out of four (pooled: exactly 2 bits); balanced pairs carry exactly 1 bit: not below half
    assert label_ids([{0: 8, 1: 8}, {2: 8, 3: 8}] * 6) == []
    # 9 against 7 carries 0.989 bits, while the pooled counts stay balanced
    assert label_ids([{0: 9, 1: 7}, {2: 9, 3: 7}, {0: 7, 1: 9}, {2: 7, 3: 9}] * 3) == ["unshuffled"]


def test_imbalanced_labels_are_not_unshuffled() -> None:
    # 97% one class: the pooled entropy (0.19 bits) is below 0.5, so a shuffled imbalanced set is not flagged
    assert label_ids([{0: 31, 1: 1}, {0: 32}, {0: 31, 1: 1}] * 4) == []


# -- the schedule ---------------------------------------------------------------------------------------------
def scheduled(kind: str, *, steps: int, per_batch: bool, lr_at: dict[int, float],
              total_steps: int | None = None) -> Seen:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = (torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10 ** 6) if kind == "OneCycleLR"
             else torch.optim.lr_scheduler.StepLR(opt, step_size=1))
    seen = Seen(scheduler=sched, optimizer=opt, total_steps=total_steps, step=steps,
                lr_changes=[(0, 0.1), *sorted(lr_at.items())])
    seen.scheduler_calls = list(range(steps)) if per_batch else list(range(0, steps, max(1, steps // 3)))
    return seen


@pytest.mark.parametrize("collapse, total_steps, fires", [
    (25, None, True), (500, None, True), (501, None, False), (40, 100, True), (60, 100, False)])
def test_per_batch_collapse_in_the_first_half(collapse: int, total_steps: int | None, fires: bool) -> None:
    """Below 1% of the start in the first half of the steps so far, or of total_steps when known."""
    seen = scheduled("StepLR", steps=1000, per_batch=True, lr_at={collapse: 0.0009}, total_steps=total_steps)
    f = found(seen).get("lr-schedule")
    assert (f is not None) is fires
    if f is not None:
        assert f.step == collapse and same(f, {"calls": 1000, "steps": 1000, "start": 0.1, "now": 0.0009})


@pytest.mark.parametrize("now, fires", [(0.00099, True), (0.001, False)])
def test_per_batch_collapse_is_below_1_percent(now: float, fires: bool) -> None:
    assert ("lr-schedule" in found(scheduled("StepLR", steps=30, per_batch=True, lr_at={15: now}))) is fires


@pytest.mark.parametrize("calls, fires", [(27, True), (26, False)])
def test_per_batch_is_a_call_after_90_percent_of_the_steps(calls: int, fires: bool) -> None:
    seen = scheduled("StepLR", steps=30, per_batch=True, lr_at={10: 1e-4})
    seen.scheduler_calls = seen.scheduler_calls[:calls]
    assert ("lr-schedule" in found(seen)) is fires


def test_per_batch_schedules_are_excepted() -> None:
    assert found(scheduled("OneCycleLR", steps=30, per_batch=True, lr_at={20: 1e-6})) == {}


def test_a_schedule_never_stepped_or_never_changing_is_judged_at_the_end() -> None:
    never = scheduled("StepLR", steps=30, per_batch=False, lr_at={})
    never.scheduler_calls = []
    assert found(never) == {} and same(found(never, final=True)["lr-schedule"], {"calls": 0, "steps": 30})
    still = scheduled("StepLR", steps=30, per_batch=False, lr_at={})
    assert "never changed from 0.1" in found(still, final=True)["lr-schedule"].evidence
    assert found(scheduled("StepLR", steps=30, per_batch=False, lr_at={12: 0.01}), final=True) == {}


# -- inside the network: hand-made probe records ----------------------------------------------------------------------
def stats(*, rms: float = 1.0, saturated: float | None = None, dead: float | None = None) -> TensorStats:
    return TensorStats(0.0, rms, rms ** 2, {p: 0.0 for p in PERCENTILES}, saturated, dead, 0, 0,
                       Histogram([1, 1], [-1.0, 0.0, 1.0]))


def linear(index: int, grad_rms: float, update: float | None = 1e-3) -> LayerStats:
    return LayerStats(f"fc{index}", 2 * index, "linear", None, stats(), weight_grad=stats(rms=grad_rms),
                      update_ratio=update)


def act(index: int, fn: str, *, saturated: float | None = None, dead: float | None = None) -> LayerStats:
    return LayerStats(f"act{index}", 2 * index + 1, "activation", fn, stats(saturated=saturated, dead=dead))


def net_record(step: int, grads: Sequence[float] = (0.01, 0.01, 0.01), *, updates: Sequence[float | None] = (),
               acts: Sequence[LayerStats] = ()) -> ProbeRecord:
    updates = list(updates) or [1e-3] * len(grads)
    layers = [linear(i, g, u) for i, (g, u) in enumerate(zip(grads, updates))]
    return ProbeRecord(step, "train", [*acts, *layers])


def with_records(*records: ProbeRecord) -> dict[str, Finding]:
    seen = Seen()
    for r in records:
        seen.add_record(r)
        seen.checks.append(r.step)
    seen.step = records[-1].step + 1
    return found(seen)


def test_a_healthy_record_gives_nothing() -> None:
    healthy = net_record(0, acts=[act(0, "relu", dead=0.1), act(1, "tanh", saturated=0.1)])
    assert with_records(healthy, healthy) == {}


@pytest.mark.parametrize("ratio, vanishing", [(0.99e-3, True), (1.01e-3, False)])
def test_vanishing_is_below_1e_3_of_the_last_layer(ratio: float, vanishing: bool) -> None:
    grads = (ratio * 0.02, 0.5, 0.02)  # the middle layer does not matter: first against last
    out = with_records(net_record(0, grads), net_record(50, grads))
    assert list(out) == (["vanishing-gradient"] if vanishing else [])
    if vanishing:
        assert out["vanishing-gradient"].step == 50
        assert same(out["vanishing-gradient"], {"ratio": ratio, "first": ratio * 0.02, "last": 0.02})


@pytest.mark.parametrize("ratio, exploding", [(101.0, True), (99.0, False)])
def test_exploding_is_above_100_times_the_last_layer(ratio: float, exploding: bool) -> None:
    grads = (ratio * 0.005, 0.005, 0.005)  # every RMS below GRAD_RMS_HIGH: only the spread can fire
    out = with_records(net_record(0, grads), net_record(50, grads))
    assert list(out) == (["exploding-gradient"] if exploding else [])


@pytest.mark.parametrize("rms, exploding", [(10.1, True), (9.9, False)])
def test_exploding_is_a_gradient_rms_above_10_at_two_checks(rms: float, exploding: bool) -> None:
    grads = (5.0, rms, 5.0)  # no spread between the layers
    out = with_records(net_record(0, grads), net_record(50, grads))
    assert list(out) == (["exploding-gradient"] if exploding else [])
    if exploding:
        assert out["exploding-gradient"].step == 50 and same(out["exploding-gradient"], {"layer": "fc1", "rms": rms})
    assert with_records(net_record(0), net_record(50, grads)) == {}  # once is not enough


@pytest.mark.parametrize("growth, exploding", [(1001.0, True), (999.0, False)])
def test_exploding_growth_over_step_0(growth: float, exploding: bool) -> None:
    """Growth of the total gradient norm (per-entry RMS over layers) above 1e3x, at the last two checks."""
    start, grown = net_record(0, (1e-4,) * 3), [net_record(s, (growth * 1e-4,) * 3) for s in (50, 100, 150)]
    out = with_records(start, *grown)  # the deque keeps the last three records; the first is kept apart
    assert list(out) == (["exploding-gradient"] if exploding else [])
    if exploding:
        assert same(out["exploding-gradient"], {"growth": growth})
    assert with_records(start, grown[0]) == {}  # two checks after step 0 are needed


@pytest.mark.parametrize("order, expected", [("bad good", set()), ("good bad", {"dead-relu"}), ("bad", set())])
def test_per_layer_rules_need_two_checks_in_a_row(order: str, expected: set[str]) -> None:
    """Gradient spread, saturation and update ratio: two checks in a row; dead units: a check after the first."""
    bad = net_record(0, (1e-6, 1.0, 1.0), updates=(1.0, 1.0, 1.0), acts=[act(0, "relu", dead=0.9),
                                                                         act(1, "sigmoid", saturated=0.9)])
    good = net_record(10)
    assert set(with_records(*({"bad": bad, "good": good}[k] for k in order.split()))) == expected
    assert set(with_records(bad, bad)) == {"vanishing-gradient", "dead-relu", "saturated", "update-ratio"}


def test_update_ratio_must_be_off_on_the_same_side_twice() -> None:
    low, high = net_record(0, updates=(1e-7,) * 3), net_record(10, updates=(1.0,) * 3)
    assert with_records(low, high) == {} and with_records(high, low) == {}
    assert list(with_records(high, high)) == ["update-ratio"]


def test_a_ratio_of_0_without_any_gradient_is_not_the_rates() -> None:
    still = net_record(0, (0.0, 0.0, 0.0), updates=(0.0, 0.0, 0.0))
    assert with_records(still, still) == {}


@pytest.mark.parametrize("fn, dead, fires", [("relu", 0.7, True), ("relu", 0.69, False), ("leaky-relu", 0.8, True),
                                             ("tanh", 0.8, False)])
def test_dead_relu_is_70_percent_never_active(fn: str, dead: float, fires: bool) -> None:
    r = net_record(0, acts=[act(0, fn, dead=dead)])
    out = with_records(r, r)
    assert ("dead-relu" in out) is fires
    if fires:
        assert same(out["dead-relu"], {"layer": "act0", "dead": dead})


@pytest.mark.parametrize("fn, saturated, fires", [("tanh", 0.51, True), ("tanh", 0.5, False),
                                                  ("sigmoid", 0.6, True), ("softsign", 0.6, True),
                                                  ("relu", 0.9, False)])
def test_saturated_is_more_than_half(fn: str, saturated: float, fires: bool) -> None:
    r = net_record(0, acts=[act(0, fn, saturated=saturated)])
    assert ("saturated" in with_records(r, r)) is fires


@pytest.mark.parametrize("median, fires", [(0.1, False), (0.1001, True), (1e-5, False), (0.99e-5, True)])
def test_update_ratio_band(median: float, fires: bool) -> None:
    r = net_record(0, updates=(median / 10, median, median * 10))
    out = with_records(r, r)
    assert ("update-ratio" in out) is fires
    if fires:
        assert same(out["update-ratio"], {"median": median, "suggested_factor": 1e-3 / median})
        assert f"Multiply the learning rate by about {1e-3 / median:.2g}" in out["update-ratio"].advice


def test_update_ratio_ignores_layers_without_one() -> None:
    r = net_record(0, updates=(None, math.nan, 0.5))
    assert list(with_records(r, r)) == ["update-ratio"]  # the median of the one finite ratio


# -- the inputs ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rms, top, fires", [
    (10.0, 50.0, False), (10.01, 50.0, True), (1.0, 100.0, False), (1.0, 100.5, True),
    (0.01, 0.05, False), (0.0099, 0.05, True), (0.0, 0.0, False)],
    ids=["rms 10", "rms 10.01", "max 100", "max 100.5", "rms 0.01", "rms 0.0099", "all zero"])
def test_input_scale_boundaries(rms: float, top: float, fires: bool) -> None:
    seen = Seen(step=1)
    seen.input_scale.append((0, rms, top))
    out = found(seen)
    assert ("input-scale" in out) is fires
    if fires:
        assert same(out["input-scale"], {"rms": rms, "max": top})


def test_input_scale_judges_each_check_on_its_own_input() -> None:
    """Each check judges the input it saw (raw pixels at step 0 were judged at step 0's check)."""
    seen = Seen(step=11)
    seen.input_scale.extend([(0, 146.0, 255.0), (10, 1.0, 3.0)])
    assert found(seen) == {}


@pytest.mark.parametrize("collapse, steps, fires", [(40, 100, True), (50, 100, True), (51, 100, False)])
def test_a_collapse_of_the_rate_is_found_without_a_scheduler(collapse: int, steps: int, fires: bool) -> None:
    """The rate alone (read after every optimizer step): below 1% of its start in the first half of the run."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.05)
    decay = [(s, 0.05 * 0.99 ** s) for s in range(1, collapse)] + [(collapse, 0.0004)]
    seen = Seen(optimizer=opt, step=steps, lr_changes=[(0, 0.05), *decay])
    f = found(seen).get("lr-schedule")
    assert (f is not None) is fires
    if f is not None:
        assert f.step == collapse and "pass scheduler=" in f.evidence


def test_a_rate_cut_late_or_by_less_than_100x_is_not_a_collapse() -> None:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    step_decay = Seen(optimizer=opt, step=90, lr_changes=[(0, 0.1), (30, 0.01), (60, 0.001)])  # 1% only at 60
    assert "lr-schedule" not in found(step_decay)
    gentle = Seen(optimizer=opt, step=100, lr_changes=[(0, 0.1), *((s, 0.1 * 0.99 ** s) for s in range(1, 100))])
    assert "lr-schedule" not in found(gentle)
