"""The hand-derived batch-norm layer against PyTorch autograd (float64) and finite differences."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from tests.helpers import centered
from trainlab.linear.batchnorm import batchnorm_backward, batchnorm_forward


def test_batchnorm_matches_autograd_and_torch():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(16, 6, generator=g, dtype=torch.float64) * 3 + 1
    gamma = torch.randn(6, generator=g, dtype=torch.float64)
    beta = torch.randn(6, generator=g, dtype=torch.float64)
    dout = torch.randn(16, 6, generator=g, dtype=torch.float64)
    out, cache = batchnorm_forward(x, gamma, beta)
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    xs, gs, bs = (t.clone().requires_grad_(True) for t in (x, gamma, beta))
    ref = F.batch_norm(xs, None, None, gs, bs, training=True, eps=1e-5)
    ref.backward(dout)
    assert torch.allclose(out, ref.detach(), atol=1e-12)
    for ours, theirs in [(dx, xs.grad), (dgamma, gs.grad), (dbeta, bs.grad)]:
        assert torch.allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_batchnorm_backward_matches_numerical_gradient():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(8, 3, generator=g, dtype=torch.float64)
    gamma, beta = torch.rand(3, generator=g, dtype=torch.float64) + 0.5, torch.zeros(3, dtype=torch.float64)
    dout = torch.randn(8, 3, generator=g, dtype=torch.float64)
    dx = batchnorm_backward(dout, batchnorm_forward(x, gamma, beta)[1])[0]
    num = centered(lambda v: float((batchnorm_forward(v, gamma, beta)[0] * dout).sum()), x)
    assert torch.allclose(dx, num, rtol=1e-6, atol=1e-8)
