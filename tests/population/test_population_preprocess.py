"""Every member's folder holds the fitted preprocessing, and a resumed population reloads it."""
from __future__ import annotations

import torch

from trainlab.config import TrainConfig
from trainlab.data import load
from trainlab.population import PopulationTrainer, train_population
from trainlab.runs import PopulationDir
from trainlab.train import train

CONFIG = TrainConfig(dataset="synthetic-blobs", preprocess=("std",), steps=10, log_every=5, batch_size=32)


def test_each_member_saves_the_preprocessing_a_lone_run_saves(tmp_path):
    configs = [CONFIG.replace(lr=0.05), CONFIG.replace(lr=0.1, seed=1)]
    train_population(configs, out=tmp_path / "pop", progress=False)
    train(configs[0], out=tmp_path / "alone", progress=False)
    alone = torch.load(tmp_path / "alone" / "preprocess.pt", weights_only=True)
    for member in PopulationDir(tmp_path / "pop").members():
        saved = torch.load(member / "preprocess.pt", weights_only=True)
        assert saved["names"] == alone["names"]
        for key, value in alone["steps"][0].items():
            assert torch.equal(saved["steps"][0][key], value), key


def test_a_resumed_population_reloads_the_saved_preprocessing_instead_of_refitting(tmp_path):
    configs = [CONFIG.replace(lr=0.05), CONFIG.replace(lr=0.1, seed=1)]
    train_population(configs, out=tmp_path / "pop", progress=False)
    saved = tmp_path / "pop" / "member-000" / "preprocess.pt"
    state = torch.load(saved, weights_only=True)
    state["steps"][0]["mean_"] += 1.0  # a refit would not see this, a reload must
    torch.save(state, saved)
    trainer = PopulationTrainer(configs, out=tmp_path / "pop", progress=False, existing=True)
    raw = load("synthetic-blobs", seed=0)
    step = state["steps"][0]
    torch.testing.assert_close(trainer.dataset.val.x, ((raw.val.x.double() - step["mean_"]) / step["scale_"]).float())
