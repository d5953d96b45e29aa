"""BitDropout: nn.Dropout's distribution from 16 random bits per element (CPU)."""

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

from sculpt_sklearn import MLP
from sculpt_sklearn._dropout import BitDropout, use_bit_dropout
from sculpt_sklearn.models import TabMModule, compute_bins

N = 400_003  # not a multiple of 4: the last random integer is used in part


def _dropped(p: float, shape=(N,), seed: int = 0, dtype=torch.float32) -> torch.Tensor:
    torch.manual_seed(seed)
    layer = BitDropout(p).train()
    return layer(torch.ones(shape, dtype=dtype)) == 0


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9, 1e-3])
def test_each_element_is_dropped_with_probability_p(p):
    dropped = _dropped(p).numpy()
    # Exact binomial test against p (p is rounded to a multiple of 1/65536: far below
    # what 400k draws can see).
    result = stats.binomtest(int(dropped.sum()), dropped.size, p)
    assert result.pvalue > 1e-4


@pytest.mark.parametrize("offset", [1, 2, 3, 4, 5])
def test_masks_are_independent_across_neighbouring_elements(offset):
    # Four neighbours share one random integer: their bits must not be related.
    p = 0.5
    dropped = _dropped(p).numpy()
    both = dropped[:-offset] & dropped[offset:]
    result = stats.binomtest(int(both.sum()), both.size, p * p)
    assert result.pvalue > 1e-4


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_kept_elements_are_rescaled_so_the_expectation_is_the_input(dtype):
    p = 0.1
    torch.manual_seed(1)
    x = torch.rand(N, dtype=dtype) + 0.5
    out = BitDropout(p).train()(x)
    assert out.dtype == dtype
    kept = out != 0
    p_eff = round(p * 65536) / 65536
    np.testing.assert_allclose((out[kept] / x[kept]).numpy(), 1 / (1 - p_eff), rtol=1e-6)
    # E[out] = x: the mean ratio is 1 within its standard error.
    ratio = (out / x).double()
    assert abs(float(ratio.mean()) - 1) < 5 * float(ratio.std()) / N**0.5


def test_gradient_is_the_mask_times_the_scale():
    torch.manual_seed(2)
    x = torch.rand(7, 5, 3, dtype=torch.float64, requires_grad=True)  # 105 elements
    out = BitDropout(0.3).train()(x)
    g = torch.randn_like(out)
    out.backward(g)
    torch.testing.assert_close(x.grad, g * out.detach() / x.detach())


def test_same_seed_same_mask_and_eval_is_the_identity():
    assert torch.equal(_dropped(0.2, seed=3), _dropped(0.2, seed=3))
    assert not torch.equal(_dropped(0.2, seed=3), _dropped(0.2, seed=4))
    x = torch.randn(10, 4)
    assert torch.equal(BitDropout(0.5).eval()(x), x)
    assert torch.equal(BitDropout(0.0).train()(x), x)
    assert BitDropout(0.5).train()(torch.empty(0, 3)).shape == (0, 3)
    assert torch.equal(BitDropout(1.0).train()(x), torch.zeros_like(x))


def test_use_bit_dropout_replaces_every_plain_dropout_and_keeps_the_state():
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.2),
                          nn.Sequential(nn.ReLU(), nn.Dropout(0.4, inplace=True)))
    keys = list(model.state_dict())
    assert use_bit_dropout(model) is model
    drops = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    assert [type(m) for m in drops] == [BitDropout, BitDropout]
    assert [m.p for m in drops] == [0.2, 0.4]
    assert list(model.state_dict()) == keys


def test_built_in_modules_use_bit_dropout():
    x = torch.randn(64, 3)
    tabm = TabMModule(3, k=4, d_block=16, dropout=0.15, bins=compute_bins(x))
    drops = [m for m in tabm.modules() if isinstance(m, nn.Dropout)]
    assert drops and all(type(m) is BitDropout and m.p == 0.15 for m in drops)
    mlp = MLP(3, dropout=0.25)
    drops = [m for m in mlp.modules() if isinstance(m, nn.Dropout)]
    assert drops and all(type(m) is BitDropout and m.p == 0.25 for m in drops)
