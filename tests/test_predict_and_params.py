"""Predict dtype, weights files that know their family, parameter names (issue 11)."""

import io
import warnings

import numpy as np
import pytest
from torch import nn

from sculpt_sklearn import SculptRegressor, sculpt
from sculpt_sklearn.datasets import make_heteroscedastic

X, Y, _ = make_heteroscedastic(n_samples=200, random_state=0)
FAST = dict(max_epochs=3, random_state=0)


class CastingNet(nn.Module):
    """Casts its input to float32, as much real code does."""

    def __init__(self, n_features, n_outputs=1):
        super().__init__()
        self.out = nn.Linear(n_features, n_outputs)

    def forward(self, x):
        return self.out(x.float())


def test_module_that_casts_its_input_predicts_in_float32():
    reg = SculptRegressor(CastingNet, **FAST).fit(X, Y)
    assert reg.predict_dtype_ == "float32"
    mean, risk = reg.predict(X, return_risk=True)
    assert mean.shape == risk.shape == (len(X),) and np.all(risk > 0)


def test_float32_predict_is_an_option_and_agrees_with_float64():
    reg64 = SculptRegressor(**FAST).fit(X, Y)
    assert reg64.predict_dtype_ == "float64"
    reg32 = SculptRegressor(predict_dtype="float32", **FAST).fit(X, Y)
    assert reg32.predict_dtype_ == "float32"
    np.testing.assert_allclose(reg32.predict(X), reg64.predict(X), rtol=1e-4, atol=1e-5)
    forced = SculptRegressor(CastingNet, predict_dtype="float64", **FAST).fit(X, Y)
    with pytest.raises(ValueError, match="predict_dtype='float32'"):
        forced.predict(X)


@pytest.mark.parametrize(
    ("saved", "loaded", "match"),
    [
        ("laplace", "normal", "trained for distribution laplace.*has normal"),
        (sculpt.StudentT.with_df(3), sculpt.StudentT.with_df(5),
         r"studentt\(df=3\).*has studentt\(df=5\).*with_df\(3\)"),
    ],
)
def test_load_params_refuses_another_distribution(saved, loaded, match):
    buf = io.BytesIO()
    SculptRegressor(distribution=saved, **FAST).fit(X, Y).save_params(buf)
    buf.seek(0)
    with pytest.raises(ValueError, match=match):
        SculptRegressor(distribution=loaded, **FAST).load_params(buf)


def test_load_params_refuses_another_loss_and_round_trips_the_same():
    buf = io.BytesIO()
    reg = SculptRegressor(distribution="laplace", loss="crps", **FAST).fit(X, Y)
    reg.save_params(buf)
    buf.seek(0)
    with pytest.raises(ValueError, match="loss='crps'"):
        SculptRegressor(distribution="laplace", **FAST).load_params(buf)
    buf.seek(0)
    same = SculptRegressor(distribution="Laplace", loss="crps", **FAST).load_params(buf)
    np.testing.assert_array_equal(same.predict(X, return_std=True)[1],
                                  reg.predict(X, return_std=True)[1])


@pytest.mark.parametrize("name", ["Normal", "LAPLACE", "StudentT", "Student-T"])
def test_distribution_names_in_any_case(name):
    reg = SculptRegressor(distribution=name, **FAST).fit(X, Y)
    assert reg.distribution_ is sculpt.get_distribution(name.lower())


def test_nan_error_says_what_to_do_first():
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError) as info:
        SculptRegressor(module=CastingNet, **FAST).fit(Xn, Y)
    first_sentence = str(info.value).split(". ")[0]
    assert "impute" in first_sentence, str(info.value)


class InDimNet(nn.Module):
    def __init__(self, in_dim, out_dim=1, hidden=8):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU())
        self.head = nn.Linear(hidden, out_dim)

    def forward(self, x):
        return self.head(self.body(x))


class NeedsDepthNet(nn.Module):
    def __init__(self, n_features, depth):
        super().__init__()
        self.out = nn.Linear(n_features, 1)

    def forward(self, x):
        return self.out(x)


def test_common_width_names_are_filled_in_and_missing_ones_are_named():
    reg = SculptRegressor(InDimNet, **FAST).fit(X, Y)
    assert reg.module_.model.body[0].in_features == X.shape[1]
    with pytest.raises(ValueError, match=r"needs the argument\(s\) \['depth'\].*module__depth="):
        SculptRegressor(NeedsDepthNet, **FAST).fit(X, Y)


def test_new_parameters_pass_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SculptRegressor(predict_dtype="float32", **FAST).fit(X, Y).predict(X)
