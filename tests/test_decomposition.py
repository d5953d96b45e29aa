"""Issue 24: the aleatoric part without the members' spread, the Student-t's shape chosen
on held-out rows, and an epistemic part that grows outside the training range."""

import io

import numpy as np
import pytest

from sculpt_sklearn import MLP, SculptRegressor, sculpt
from sculpt_sklearn._inference import deduct_member_spread
from sculpt_sklearn._risk_scale import choose_shape_and_scale
from sculpt_sklearn.datasets import make_heteroscedastic

X, Y, _ = make_heteroscedastic(n_samples=600, random_state=0)


def test_deducting_the_spread_keeps_the_total_and_respects_the_floor():
    aleatoric = np.array([[1.0], [0.5], [0.2]])
    epistemic = np.array([[0.6], [0.1], [0.3]])
    ale, epi = deduct_member_spread(aleatoric, epistemic, floor=0.01)
    np.testing.assert_allclose(ale[:, 0], [0.8, np.sqrt(0.24), 0.01])  # by hand
    np.testing.assert_allclose(epi[:, 0], [np.sqrt(0.72), np.sqrt(0.02),
                                           np.sqrt(0.04 + 0.09 - 1e-4)])
    np.testing.assert_allclose(ale**2 + epi**2, aleatoric**2 + epistemic**2, rtol=1e-12)


def test_the_estimator_moves_the_spread_and_keeps_every_total():
    fast = {"max_epochs": 8, "random_state": 0}
    corrected = SculptRegressor(**fast).fit(X, Y)
    plain = SculptRegressor(member_spread_correction=False, **fast).fit(X, Y)
    a, b = corrected.predict_uncertainty(X), plain.predict_uncertainty(X)
    np.testing.assert_allclose(a.total, b.total, rtol=1e-12)
    np.testing.assert_array_equal(corrected.predict(X, return_std=True)[1], a.total)
    inside = a.aleatoric > 1.5e-4 * corrected.y_scale_[0]
    np.testing.assert_allclose(a.aleatoric[inside] ** 2,
                               b.aleatoric[inside] ** 2 - b.epistemic[inside] ** 2, rtol=1e-9)
    np.testing.assert_allclose(a.epistemic[inside], np.sqrt(2) * b.epistemic[inside], rtol=1e-9)
    np.testing.assert_array_equal(corrected.predict(X, return_risk=True)[1], a.aleatoric)


def test_a_single_network_without_members_is_not_changed():
    fast = {"module": MLP, "max_epochs": 5, "random_state": 0}
    a = SculptRegressor(**fast).fit(X, Y).predict_uncertainty(X)
    b = SculptRegressor(member_spread_correction=False, **fast).fit(X, Y).predict_uncertainty(X)
    np.testing.assert_array_equal(a.aleatoric, b.aleatoric)
    assert np.all(a.epistemic == 0)


@pytest.mark.parametrize(("noise", "allowed"), [("normal", {20.0, 50.0, np.inf}),
                                                ("t3", {3.0, 4.0}), ("t5", {4.0, 5.0, 7.0})])
def test_held_out_rows_choose_the_shape_of_their_noise(noise, allowed):
    # The generating family is the reference: 20,000 standardised draws with a known std.
    rng = np.random.default_rng(1)
    std = rng.uniform(0.5, 2.0, (20000, 1))
    if noise == "normal":
        eps = rng.standard_normal((20000, 1))
    else:
        df = float(noise[1:])
        eps = rng.standard_t(df, (20000, 1)) / np.sqrt(df / (df - 2))
    family, factor = choose_shape_and_scale(3 * std * eps, np.zeros_like(std), 3 * std, None)
    assert float(getattr(family, "df", np.inf)) in allowed
    np.testing.assert_allclose(factor, 1.0, atol=0.05)  # the predicted std was right


def test_auto_chooses_the_shape_on_held_out_rows_and_an_explicit_family_stays():
    rng = np.random.default_rng(0)
    Xg = rng.uniform(-2, 2, (3000, 3))
    yg = np.sin(Xg[:, 0]) + 0.3 * rng.standard_normal(3000)  # Gaussian noise
    fast = {"max_epochs": 15, "random_state": 0}
    auto = SculptRegressor(**fast).fit(Xg, yg)
    # 300 held-out rows of Gaussian noise: lighter tails than the df 5 it trained with.
    assert float(getattr(auto.distribution_, "df", np.inf)) >= 10
    named = SculptRegressor(distribution="studentt", **fast).fit(Xg, yg)
    assert named.distribution_ is sculpt.StudentT
    # 400 rows: two networks each hold out 40, 80 rows in all, under 200: df stays 5.
    few = SculptRegressor(**fast).fit(Xg[:400], yg[:400])
    assert few.distribution_ is sculpt.StudentT
    # The network trained with df 5 either way; the file keeps both families.
    buffer = io.BytesIO()
    auto.save_params(buffer)
    buffer.seek(0)
    loaded = SculptRegressor().load_params(buffer)
    assert loaded.distribution_ is auto.distribution_
    for a, b in zip(loaded.predict(Xg[:50], return_std=True),
                    auto.predict(Xg[:50], return_std=True), strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_epistemic_part_grows_with_the_distance_beyond_the_training_range():
    fast = {"max_epochs": 5, "random_state": 0}
    with_prior = SculptRegressor(extrapolation_uncertainty=0.5, **fast).fit(X, Y)
    without = SculptRegressor(extrapolation_uncertainty=0.0, **fast).fit(X, Y)
    inside = X[:50]
    np.testing.assert_array_equal(with_prior.predict_uncertainty(inside).epistemic,
                                  without.predict_uncertainty(inside).epistemic)
    # Column 0 moved 1, 2 and 4 robust standard deviations (IQR / 1.349) beyond its
    # largest value in fit: the added epistemic variance is (0.5 * d * y_scale)^2.
    q25, q75 = np.percentile(X[:, 0], [25, 75])
    robust = (q75 - q25) / 1.3489795003921634
    far = np.repeat(X[:1], 3, axis=0)
    d = np.array([1.0, 2.0, 4.0])
    far[:, 0] = X[:, 0].max() + d * robust
    added = (with_prior.predict_uncertainty(far).epistemic ** 2
             - without.predict_uncertainty(far).epistemic ** 2)
    np.testing.assert_allclose(added, (0.5 * d * with_prior.y_scale_[0]) ** 2, rtol=1e-3)


def test_the_prior_is_fixed_at_fit_time():
    reg = SculptRegressor(max_epochs=3, random_state=0).fit(X, Y)
    far = X[:3] * 10
    before = reg.predict_uncertainty(far).epistemic
    reg.set_params(extrapolation_uncertainty=0.0, member_spread_correction=False)
    np.testing.assert_array_equal(reg.predict_uncertainty(far).epistemic, before)
