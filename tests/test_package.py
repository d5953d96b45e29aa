"""Package-level behaviour: imports, public names, layering."""

import subprocess
import sys

import pytest
import torch

import sculpt_sklearn
from sculpt_sklearn import sculpt
from sculpt_sklearn.datasets import make_heteroscedastic


def test_torch_layer_imports_without_scikit_learn_or_skorch():
    code = (
        "import sys; from sculpt_sklearn import sculpt; "
        "sculpt.Wrapper(sculpt.Normal, n_layers=3); "
        "print(sorted(m for m in ('sklearn', 'skorch', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_public_names_resolve():
    for name in ("SculptRegressor", "MLP", "datasets", "sculpt"):
        assert getattr(sculpt_sklearn, name) is not None
    with pytest.raises(AttributeError):
        sculpt_sklearn.NoSuchThing  # noqa: B018


def test_weighted_loss_is_a_weighted_mean_over_rows():
    y = torch.tensor([[0.0, 1.0], [2.0, -1.0], [0.5, 0.5]], dtype=torch.float64)
    m = torch.zeros_like(y)
    s = torch.ones_like(y)
    w = torch.tensor([1.0, 3.0, 0.0], dtype=torch.float64)
    nll = sculpt.Normal.nll(y, m, s)
    expected = (nll[0].mean() * 1 + nll[1].mean() * 3) / 4
    torch.testing.assert_close(sculpt.Normal.loss_function(y, m, s, sample_weight=w), expected)
    torch.testing.assert_close(sculpt.Normal.loss_function(y, m, s, sample_weight=7 * w),
                               expected)


@pytest.mark.parametrize("kwargs", [{"n_samples": True}, {"n_features": True}])
def test_make_heteroscedastic_rejects_bools(kwargs):
    with pytest.raises(ValueError):
        make_heteroscedastic(**kwargs)
