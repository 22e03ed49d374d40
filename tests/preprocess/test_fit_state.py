"""A fitted or loaded preprocessing state that holds NaN/Inf (or a zero scale) is refused, never applied."""
from __future__ import annotations

import pytest
import torch

from trainlab.errors import CheckpointError, UserError
from trainlab.preprocess import PCA, MeanSubtraction, MinMax, PCAWhitening, Pipeline, Standardize, ZCAWhitening

MAKERS = [MeanSubtraction, Standardize, MinMax, PCA, lambda: PCAWhitening(eps=1e-5), lambda: ZCAWhitening(eps=1e-5)]


def data(n: int = 200, d: int = 6) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(0)) * 2 + 1


@pytest.mark.parametrize("make", MAKERS)
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_fitting_on_nonfinite_inputs_is_refused_and_leaves_it_unfitted(make, value) -> None:
    x = data()
    x[5, 1] = value
    transform = make()
    with pytest.raises(UserError, match=r"\.fit learned .*NaN/Inf.*clean them before fitting"):
        transform.fit(x)
    assert not transform.fitted


@pytest.mark.parametrize("make", MAKERS)
def test_loading_a_nan_state_is_refused(make) -> None:
    state = make().fit(data()).state_dict()
    name = next(k for k, v in state.items() if v.is_floating_point())
    state[name] = torch.full_like(state[name], float("nan"))
    fresh = make()
    with pytest.raises(UserError, match=f"saved .* state holds .*NaN/Inf value.* in {name}; .*fit it again"):
        fresh.load_state_dict(state)
    assert not fresh.fitted


@pytest.mark.parametrize("make", [Standardize, MinMax])
def test_loading_a_zero_scale_is_refused(make) -> None:
    state = make().fit(data()).state_dict()
    state["scale_"][2] = 0.0
    with pytest.raises(UserError, match=r"1 scale\(s\) <= 0 in scale_"):
        make().load_state_dict(state)


def test_loading_whitening_that_divides_by_zero_is_refused() -> None:
    state = PCAWhitening(eps=0.0).fit(data()).state_dict()
    state["explained_variance_"][-1] = 0.0
    with pytest.raises(UserError, match="divide by zero"):
        PCAWhitening(eps=0.0).load_state_dict(state)


def test_a_constant_feature_still_fits_with_scale_one() -> None:
    x = data()
    x[:, 3] = 4.0
    z = Standardize().fit_transform(x)
    assert torch.isfinite(z).all() and torch.equal(z[:, 3], torch.zeros(len(x)))


def test_a_saved_pipeline_with_a_zero_std_is_a_one_line_checkpoint_error(tmp_path) -> None:
    pipeline = Pipeline.from_names(["mean", "std"])
    pipeline.fit(data())
    state = pipeline.state_dict()
    state["steps"][1]["scale_"] = torch.zeros_like(state["steps"][1]["scale_"])
    torch.save(state, tmp_path / "preprocess.pt")
    with pytest.raises(CheckpointError, match="preprocess.pt.*scale") as info:
        Pipeline.from_names(["mean", "std"]).load(tmp_path / "preprocess.pt")
    assert "\n" not in str(info.value)
