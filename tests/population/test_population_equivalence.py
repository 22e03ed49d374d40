"""Members trained together match the same configurations trained alone by trainlab.train."""
from __future__ import annotations

import math

import pytest
import torch

from trainlab.config import TrainConfig
from trainlab.data.base import Dataset, Split
from trainlab.errors import UserError
from trainlab.population import member_model, train_population
from trainlab.runs import RunDir
from trainlab.train import Trainer


def toy_dataset(n_train: int = 230, seed: int = 0) -> Dataset:
    """Three Gaussian blobs in 12 dimensions, shaped as 1x3x4 images (exercises the flatten)."""
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(3, 12, generator=g) * 1.5

    def split(n: int) -> Split:
        y = torch.randint(0, 3, (n,), generator=g)
        x = centers[y] + torch.randn(n, 12, generator=g)
        return Split(x.view(n, 1, 3, 4), y)

    return Dataset("toy", split(n_train), split(120), split(100), 3, (1, 3, 4))


BASE = TrainConfig(dataset="toy", depth=2, width=16, activation="tanh", batch_size=32, steps=60,
                   log_every=10, eval_every=20)


def alone(config: TrainConfig, dataset: Dataset, path) -> tuple[dict, list[dict]]:
    run = RunDir.create(path, config, "cpu")
    result = Trainer(config, run=run, progress=False, dataset=dataset).fit()
    return result.to_dict(), run.metrics()


def assert_same_records(together: list[dict], reference: list[dict]) -> None:
    assert [(r["kind"], r["step"]) for r in together if r["kind"] != "final"] == \
           [(r["kind"], r["step"]) for r in reference if r["kind"] != "final"]
    for ours, ref in zip(together, reference):
        for key in ("train_loss", "val_loss", "val_accuracy", "lr", "samples", "epoch"):
            if key in ref:
                if ref[key] is None:
                    assert ours[key] is None
                else:
                    assert ours[key] == pytest.approx(ref[key], rel=1e-4, abs=1e-5), (key, ours, ref)


def check_population(configs: list[TrainConfig], dataset: Dataset, tmp_path) -> list[dict]:
    results = train_population(configs, dataset=dataset, out=tmp_path / "pop", progress=False)
    assert len(results) == len(configs)
    for k, (config, result) in enumerate(zip(configs, results)):
        ref, ref_metrics = alone(config, dataset, tmp_path / f"alone-{k}")
        ours = result.to_dict()
        member_dir = RunDir(tmp_path / "pop" / f"member-{k:03d}")
        assert ours["run_dir"] == str(member_dir.path)
        assert member_dir.config() == config
        assert member_dir.summary()["status"] == ref["status"]
        for key in ("status", "steps", "epochs"):
            assert ours[key] == ref[key], (k, key)
        for key in ("train_loss", "val_loss", "val_accuracy", "test_loss", "test_accuracy"):
            if ref[key] is None:
                assert ours[key] is None, (k, key)
            else:
                assert ours[key] == pytest.approx(ref[key], rel=1e-4, abs=1e-5), (k, key)
        assert_same_records(member_dir.metrics(), ref_metrics)
    return [r.to_dict() for r in results]


def test_sgd_and_momentum_members_with_different_seeds_inits_and_a_diverging_member(tmp_path):
    dataset = toy_dataset()
    configs = [
        BASE.replace(seed=0, lr=0.05),
        BASE.replace(seed=1, lr=0.2, optimizer="momentum"),
        BASE.replace(seed=2, lr=0.02, momentum=0.5, init="he-normal", init_scale=1.5, weight_decay=0.01),
        BASE.replace(seed=1, lr=0.1, init="normal", init_std=0.3, schedule="step", lr_step_every=25, lr_gamma=0.5),
        BASE.replace(seed=3, lr=400.0, init_scale=3.0),  # diverges within the first window
    ]
    results = check_population(configs, dataset, tmp_path)
    statuses = [r["status"] for r in results]
    assert statuses == ["completed"] * 4 + ["diverged"]


def test_plain_sgd_members_sharing_a_seed_with_weight_decay(tmp_path):
    """The fused SGD step of the hand-written backward, with one batch shared by all members."""
    base = BASE.replace(activation="sigmoid", seed=5)
    configs = [base.replace(lr=lr, weight_decay=wd) for lr, wd in ((0.05, 0.0), (0.3, 0.01), (1.0, 0.001))]
    check_population(configs, toy_dataset(seed=3), tmp_path)


def test_shared_seed_batch_norm_members(tmp_path):
    dataset = toy_dataset(seed=1)
    base = BASE.replace(batch_norm="before", activation="relu", seed=4)
    configs = [base.replace(lr=lr, momentum=m) for lr, m in ((0.05, 0.0), (0.1, 0.9), (0.3, 0.5))]
    check_population(configs, dataset, tmp_path)


def test_adam_members_with_batch_norm_after_and_full_batch(tmp_path):
    dataset = toy_dataset(n_train=96, seed=2)
    base = BASE.replace(batch_norm="after", optimizer="adam", batch_size=0, steps=30, loss="svm")
    configs = [base.replace(seed=s, lr=lr) for s, lr in ((0, 0.001), (1, 0.01))]
    check_population(configs, dataset, tmp_path)


def test_member_state_loads_into_a_model_that_evaluates_the_same(tmp_path):
    dataset = toy_dataset()
    configs = [BASE.replace(seed=s, batch_norm="before") for s in (0, 1)]
    results = train_population(configs, dataset=dataset, progress=False)
    for config, state, result in zip(configs, results.state_dicts, results):
        model = member_model(config, dataset, state).eval()
        with torch.no_grad():
            accuracy = (model(dataset.test.x).argmax(1) == dataset.test.y).double().mean().item()
        assert accuracy == pytest.approx(result.test_accuracy, abs=1e-9)
    assert results.member_steps == 2 * BASE.steps


def test_on_eval_can_stop_a_member_and_the_rest_carry_on(tmp_path):
    dataset = toy_dataset()
    configs = [BASE.replace(seed=s) for s in (0, 1, 2)]
    seen: list[tuple[int, int]] = []

    def on_eval(step: int, member: int, record: dict) -> bool:
        seen.append((step, member))
        return member == 1

    results = train_population(configs, dataset=dataset, progress=False, on_eval=on_eval)
    assert [r.status for r in results] == ["completed", "pruned", "completed"]
    assert results[1].steps == 20 and results[0].steps == 60
    assert (20, 1) in seen and (40, 1) not in seen and (60, 0) in seen
    ref = Trainer(configs[2], progress=False, dataset=dataset).fit()
    assert results[2].test_accuracy == pytest.approx(ref.test_accuracy, abs=1e-9)
    assert math.isclose(results[2].val_loss, ref.val_loss, rel_tol=1e-4)



def test_on_evaluation_sees_every_alive_member_and_can_stop_the_worst():
    dataset = toy_dataset()
    configs = [BASE.replace(seed=s) for s in (0, 1, 2, 3)]
    calls: list[tuple[int, list[int]]] = []
    at_20: dict[int, float] = {}

    def worst_half_at_20(step: int, records: dict[int, dict]) -> list[int]:
        calls.append((step, sorted(records)))
        if step != 20:
            return []
        at_20.update({k: r["val_loss"] for k, r in records.items()})
        ranked = sorted(records, key=lambda k: (records[k]["val_loss"], k))
        return ranked[len(ranked) // 2:]

    results = train_population(configs, dataset=dataset, progress=False, on_evaluation=worst_half_at_20)
    stopped = [k for k, r in enumerate(results) if r.status == "pruned"]
    kept = [k for k, r in enumerate(results) if r.status == "completed"]
    assert len(stopped) == 2 and all(results[k].steps == 20 for k in stopped)
    assert calls[0] == (20, [0, 1, 2, 3]) and calls[1] == (40, kept)
    assert max(at_20[k] for k in kept) <= min(at_20[k] for k in stopped)
    ref = Trainer(configs[kept[0]], progress=False, dataset=dataset).fit()
    assert results[kept[0]].test_accuracy == pytest.approx(ref.test_accuracy, abs=1e-9)

@pytest.mark.parametrize("change, field", [
    (dict(width=8), "width"), (dict(batch_size=16), "batch_size"), (dict(activation="relu"), "activation"),
])
def test_members_must_share_the_architecture_and_budget(change, field):
    with pytest.raises(UserError, match=field):
        train_population([BASE, BASE.replace(**change)], dataset=toy_dataset(), progress=False)


def test_cnn_and_mixed_optimizers_are_refused():
    with pytest.raises(UserError, match="--model mlp"):
        train_population([BASE.replace(model="cnn")], dataset=toy_dataset(), progress=False)
    with pytest.raises(UserError, match="adam"):
        train_population([BASE, BASE.replace(optimizer="adam")], dataset=toy_dataset(), progress=False)
