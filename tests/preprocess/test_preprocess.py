"""Preprocessing against scikit-learn and closed forms, and its pipeline plumbing."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA as SkPCA
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import trainlab.preprocess.base as base
from trainlab.data.base import Dataset, Split
from trainlab.errors import CheckpointError, UserError
from trainlab.preprocess import (
    PCA,
    FeatureScaleWarning,
    MeanSubtraction,
    MinMax,
    NotFittedError,
    PCAWhitening,
    Pipeline,
    Standardize,
    UncenteredDataWarning,
    ZCAWhitening,
    apply_pipeline,
    build_step,
)
from trainlab.runs import RunDir

TOL = 1e-6


def correlated(n: int = 400, d: int = 12, seed: int = 0) -> torch.Tensor:
    """Correlated float64 data with unequal scales and a non-zero mean."""
    g = torch.Generator().manual_seed(seed)
    mix = torch.randn(d, d, generator=g, dtype=torch.float64)
    return torch.randn(n, d, generator=g, dtype=torch.float64) @ mix + torch.linspace(-3, 5, d, dtype=torch.float64)


def align_signs(ours: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Principal directions are defined up to sign: flip our columns to match the reference."""
    return ours * np.sign((ours * ref).sum(0, keepdims=True))


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    # Several chunks per fit, so the chunked accumulation is what gets tested.
    monkeypatch.setattr(base, "CHUNK_ROWS", 64)


def test_standardize_matches_sklearn_and_keeps_constant_features():
    x = correlated()
    x[:, 3] = 7.0
    train, test = x[:300], x[300:]
    ours = Standardize().fit(train)
    ref = StandardScaler().fit(train.numpy())
    np.testing.assert_allclose(ours.transform(test).numpy(), ref.transform(test.numpy()), atol=TOL)
    np.testing.assert_allclose(ours.scale_.numpy(), ref.scale_, atol=TOL)
    assert float(ours.scale_[3]) == 1.0
    torch.testing.assert_close(ours.inverse_transform(ours.transform(test)), test)


def test_minmax_matches_sklearn_on_minus_one_to_one():
    x = correlated()
    x[:, 0] = -2.0
    train, test = x[:300], x[300:]
    ours = MinMax().fit(train)
    ref = MinMaxScaler(feature_range=(-1, 1)).fit(train.numpy())
    np.testing.assert_allclose(ours.transform(test).numpy(), ref.transform(test.numpy()), atol=TOL)
    z = ours.transform(train)
    assert float(z[:, 1:].min()) == pytest.approx(-1) and float(z.max()) == pytest.approx(1)
    torch.testing.assert_close(ours.inverse_transform(z), train)


def test_mean_subtraction_modes():
    g = torch.Generator().manual_seed(1)
    x = torch.rand(50, 3, 4, 5, generator=g, dtype=torch.float64) + torch.tensor([0.0, 1.0, 2.0]).view(1, 3, 1, 1)
    a = x.numpy()
    feature = MeanSubtraction("feature").fit(x)
    np.testing.assert_allclose(feature.transform(x).numpy(), a - a.mean(0, keepdims=True), atol=TOL)
    channel = MeanSubtraction("channel").fit(x)
    np.testing.assert_allclose(channel.mean_.numpy(), a.mean((0, 2, 3)), atol=TOL)
    np.testing.assert_allclose(channel.transform(x).numpy(), a - a.mean((0, 2, 3), keepdims=True), atol=TOL)
    global_ = MeanSubtraction("global").fit(x)
    np.testing.assert_allclose(global_.transform(x).numpy(), a - a.mean(), atol=TOL)
    torch.testing.assert_close(channel.inverse_transform(channel.transform(x)), x)
    with pytest.raises(UserError, match="mode 'feature'"):
        MeanSubtraction("channel").fit(x.reshape(50, -1))


def test_variance_is_accurate_for_a_large_offset():
    # E[x^2] - E[x]^2 in float32 would return noise here; two float64 passes do not.
    x = (1e4 + torch.randn(1000, 3, generator=torch.Generator().manual_seed(2))).float()
    ours = Standardize().fit(x)
    np.testing.assert_allclose(ours.scale_.numpy(), x.double().numpy().std(0), rtol=1e-9)


@pytest.mark.parametrize("n_components", [5, 12])
def test_pca_matches_sklearn(n_components):
    x = correlated()
    ours = PCA(n_components).fit(x[:300])
    ref = SkPCA(n_components, svd_solver="full").fit(x[:300].numpy())
    z, z_ref = ours.transform(x[300:]).numpy(), ref.transform(x[300:].numpy())
    np.testing.assert_allclose(align_signs(z, z_ref), z_ref, atol=TOL)
    np.testing.assert_allclose(ours.explained_variance_.numpy(), ref.explained_variance_, rtol=TOL)
    np.testing.assert_allclose(ours.explained_variance_ratio_.numpy(), ref.explained_variance_ratio_, atol=TOL)


def test_pca_variance_fraction_keeps_the_fewest_components():
    x = correlated()
    ours = PCA(0.9).fit(x)
    cumulative = np.cumsum(SkPCA(svd_solver="full").fit(x.numpy()).explained_variance_ratio_)
    assert ours.n_components_ == int(np.argmax(cumulative >= 0.9)) + 1
    assert ours.transform(x).shape == (len(x), ours.n_components_)
    assert ours.output_shape((12,)) == (ours.n_components_,)


def test_pca_whitening_matches_sklearn_whiten():
    x = correlated()
    ours = PCAWhitening(8, eps=0.0).fit(x[:300])
    ref = SkPCA(8, whiten=True, svd_solver="full").fit(x[:300].numpy())
    z, z_ref = ours.transform(x[300:]).numpy(), ref.transform(x[300:].numpy())
    np.testing.assert_allclose(align_signs(z, z_ref), z_ref, atol=TOL)


def test_zca_whitened_data_has_identity_covariance():
    x = correlated()
    zca = ZCAWhitening(eps=0.0).fit(x)
    z = zca.transform(x)
    np.testing.assert_allclose(np.cov(z.numpy(), rowvar=False), np.eye(x.shape[1]), atol=TOL)
    np.testing.assert_allclose(z.numpy().mean(0), 0.0, atol=TOL)
    torch.testing.assert_close(zca.inverse_transform(z), x)


def test_zca_is_the_whitening_closest_to_the_input():
    x = correlated()
    centred = x - x.mean(0)
    zca = ZCAWhitening(eps=0.0).fit(x).transform(x)
    pca = PCAWhitening(eps=0.0).fit(x).transform(x)
    q, _ = torch.linalg.qr(torch.randn(12, 12, generator=torch.Generator().manual_seed(3), dtype=torch.float64))
    rotated = zca @ q  # also white: a rotation of white data stays white
    np.testing.assert_allclose(np.cov(rotated.numpy(), rowvar=False), np.eye(12), atol=TOL)

    def distance(z: torch.Tensor) -> float:
        return float((z - centred).square().sum(1).mean())

    assert distance(zca) < distance(pca)
    assert distance(zca) < distance(rotated)


def test_whitening_rejects_a_singular_covariance_without_eps():
    x = correlated()
    x[:, 0] = x[:, 1]
    with pytest.raises(UserError, match="eps > 0"):
        ZCAWhitening(eps=0.0).fit(x)
    z = ZCAWhitening(eps=1e-3).fit(x).transform(x)
    assert torch.isfinite(z).all()


@pytest.mark.parametrize("make", [MeanSubtraction, Standardize, MinMax, lambda: PCA(2), PCAWhitening, ZCAWhitening])
def test_use_before_fit_names_the_fix(make):
    with pytest.raises(NotFittedError, match=r"call \.fit"):
        make().transform(torch.zeros(4, 3))


def test_warns_for_uncentred_pca_and_for_unequal_scales():
    x = correlated().abs() + 10.0
    with pytest.warns(UncenteredDataWarning, match="subtract the mean"):
        PCA(3, center=False).fit(x)
    scaled = correlated()
    scaled[:, 0] *= 1e4
    scaled[:, 1:6] *= 1e-3
    with pytest.warns(FeatureScaleWarning, match="standardize first"):
        PCA(3).fit(scaled)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PCA(3).fit(Standardize().fit_transform(scaled))
        PCA(3, center=False).fit(x - x.mean(0))


def test_uncentred_pca_spends_its_first_component_on_the_mean():
    x = correlated() + 20.0
    with pytest.warns(UncenteredDataWarning):
        first = PCA(1, center=False).fit(x).components_[0]
    mean = x.mean(0)
    assert float(first @ mean / mean.norm()) > 0.99


def test_step_grammar():
    assert build_step("pca:50").n_components == 50
    assert build_step("pca:0.99").n_components == 0.99
    step = build_step("pca-white:10:eps=0.01:center=no")
    assert (step.n_components, step.eps, step.center) == (10, 0.01, False)
    assert build_step("zca:0.1").eps == 0.1
    assert build_step("mean-channel").mode == "channel"
    for bad, message in [("whiten", "choose one of"), ("pca:many", "component count"),
                         ("zca:gamma=1", "unknown option"), ("std:3", "no options"), ("pca:1.5", "n_components"),
                         ("zca:-1", "eps must be")]:
        with pytest.raises(UserError, match=message):
            build_step(bad)


def dataset(train_x: torch.Tensor, val_x: torch.Tensor) -> Dataset:
    y = lambda x: torch.zeros(len(x), dtype=torch.long)  # noqa: E731
    return Dataset("toy", Split(train_x, y(train_x)), Split(val_x, y(val_x)), Split(val_x, y(val_x)), 2,
                   tuple(train_x.shape[1:]))


def test_apply_pipeline_fits_on_train_only_and_reloads_exactly(tmp_path):
    x = correlated().float().reshape(400, 3, 2, 2)
    data = dataset(x[:300], x[300:] + 1.0)
    out = apply_pipeline(data, ("mean", "pca-white:5"))
    assert out.input_shape == (5,)
    assert torch.allclose(out.train.x.mean(0), torch.zeros(5), atol=1e-4)
    assert float(out.val.x.mean(0).abs().max()) > 0.1  # the validation shift is kept, not refitted away
    path = RunDir(tmp_path).save_preprocessing(out)
    assert path.name == "preprocess.pt"
    torch.load(path, weights_only=True)
    changed = dataset(x[:300] * 2.0, x[300:] + 1.0)  # different training data: the saved state must win
    again = apply_pipeline(changed, ("mean", "pca-white:5"), saved=path)
    assert torch.equal(again.val.x, out.val.x)
    with pytest.raises(CheckpointError, match="does not match"):
        apply_pipeline(data, ("mean", "zca"), saved=path)


class Stream:
    """An online source: different data every epoch."""

    def __len__(self) -> int:
        return 100

    def epoch(self, index: int) -> Split:
        g = torch.Generator().manual_seed(index)
        return Split(torch.randn(100, 4, generator=g) * (index + 1) + index, torch.zeros(100, dtype=torch.long))


def test_online_stream_is_fitted_on_epoch_zero_and_applied_to_every_epoch():
    val = Split(torch.randn(10, 4), torch.zeros(10, dtype=torch.long))
    data = Dataset("stream", Stream(), val, val, 2, (4,))
    out = apply_pipeline(data, ("std",))
    reference = Standardize().fit(Stream().epoch(0).x)
    torch.testing.assert_close(out.train.epoch(3).x, reference.transform(Stream().epoch(3).x))
    assert len(out.train) == 100


def test_pipeline_inverse_and_state_round_trip():
    x = correlated()
    pipe = Pipeline.from_names(["std", "zca:0.001"]).fit(x)
    torch.testing.assert_close(pipe.inverse_transform(pipe.transform(x)), x)
    fresh = Pipeline.from_names(["std", "zca:0.001"]).load_state_dict(pipe.state_dict())
    assert torch.equal(fresh.transform(x), pipe.transform(x))


def test_a_run_saves_its_fitted_preprocessing_and_reuses_it(tmp_path):
    from trainlab.config import TrainConfig
    from trainlab.data import load
    from trainlab.train import prepare_data, train

    config = TrainConfig(dataset="synthetic-blobs", preprocess=("std",), steps=5, log_every=5, batch_size=32)
    train(config, out=tmp_path / "run", progress=False)
    saved = tmp_path / "run" / "preprocess.pt"
    state = torch.load(saved, weights_only=True)
    state["steps"][0]["mean_"] += 1.0  # tamper: a refit would not see this, a reload must
    torch.save(state, saved)
    reloaded = prepare_data(config, run_dir=tmp_path / "run")
    raw = load("synthetic-blobs", seed=0)
    step = state["steps"][0]
    expected = (raw.val.x.double() - step["mean_"]) / step["scale_"]
    torch.testing.assert_close(reloaded.val.x, expected.float())
