"""Validation rows the user chooses: fit(X, y, X_val=..., y_val=..., sample_weight_val=...) (issue 13)."""

import io
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from helpers import NaNGradientsAt
from scipy import stats
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sculpt_sklearn import MLP, SculptRegressor
from sculpt_sklearn._training import MIN_CALIBRATION_ROWS
from sculpt_sklearn.datasets import make_heteroscedastic

X, Y, _ = make_heteroscedastic(n_samples=240, random_state=0)
XV, YV, _ = make_heteroscedastic(n_samples=60, random_state=1)
FAST = dict(module=MLP, max_epochs=12, n_iter_no_change=4, random_state=0)


def rows_per_epoch(reg, kind, epoch=-1):
    """Rows the net trained (``kind="train"``) or validated on in one epoch of history_."""
    return sum(b.get(f"{kind}_batch_size", 0) for b in reg.history_[epoch, "batches"])


def validation_nll(reg, X_val, y_val, sample_weight_val=None):
    """The weighted validation NLL of the weights held now, in standardised-target units,
    from predict and scipy (the quantity skorch records as valid_loss each epoch)."""
    mean, std = reg.predict(X_val, return_std=True)
    loc, scale = reg.y_loc_[0], reg.y_scale_[0]
    std = std / reg.risk_scale_[0]
    nll = -stats.norm.logpdf((y_val - loc) / scale, (mean - loc) / scale, std / scale)
    return np.average(nll, weights=sample_weight_val)


# ------------------------------------------------ (a) the given rows pick the epoch
def test_time_ordered_validation_rows_choose_another_epoch_than_a_random_split():
    rng = np.random.default_rng(0)
    t = np.linspace(0.0, 1.0, 300)
    x = rng.normal(size=300)
    y = np.sin(6 * t) + 0.5 * x + 0.1 * rng.normal(size=300)
    Xt = np.c_[2 * t - 1, x]
    past, future = slice(0, 200), slice(200, 300)  # validate on the future, as in production
    params = dict(module=MLP, max_epochs=30, n_iter_no_change=30, calibrate_risk=False,
                  random_state=0)
    chosen = SculptRegressor(**params).fit(Xt[past], y[past], X_val=Xt[future],
                                           y_val=y[future])
    random_split = SculptRegressor(**params).fit(Xt[past], y[past])
    valid_loss = chosen.history_[:, "valid_loss"]
    assert chosen.best_epoch_ == int(np.argmin(valid_loss)) + 1
    # Extrapolating into the future gets worse early on; a random split keeps improving.
    assert chosen.best_epoch_ <= 10 < random_split.best_epoch_
    np.testing.assert_allclose(validation_nll(chosen, Xt[future], y[future]),
                               valid_loss[chosen.best_epoch_ - 1], rtol=1e-4)


# -------------------------------------------- (b) calibration on the given rows
@pytest.mark.parametrize("early_stopping", [True, False])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_risk_scale_is_the_maximum_likelihood_factor_on_the_given_rows(early_stopping, weighted):
    w = np.random.default_rng(2).uniform(0.2, 3.0, size=len(XV)) if weighted else None
    reg = SculptRegressor(early_stopping=early_stopping, **FAST).fit(
        X, Y, X_val=XV, y_val=YV, sample_weight_val=w)
    mean, std = reg.predict(XV, return_std=True)
    raw_std = std / reg.risk_scale_[0]
    # Normal: the maximiser of the likelihood of s * raw_std is the weighted RMS of z.
    by_hand = np.sqrt(np.average(((YV - mean) / raw_std) ** 2, weights=w))
    np.testing.assert_allclose(reg.risk_scale_, [by_hand], rtol=1e-4)
    assert abs(by_hand - 1.0) > 1e-3  # the factor is not trivially 1


# ----------------------------------------------------------- (c) no random split
def test_every_training_row_trains_and_every_given_row_validates():
    reg = SculptRegressor(**FAST).fit(X, Y, X_val=XV, y_val=YV)
    assert rows_per_epoch(reg, "train", 0) == len(X)
    assert rows_per_epoch(reg, "valid", 0) == len(XV)
    off = SculptRegressor(early_stopping=False, **FAST).fit(X, Y, X_val=XV, y_val=YV)
    assert rows_per_epoch(off, "train", 0) == len(X)
    assert "valid_loss" not in off.history_[-1]  # no per-epoch evaluation without stopping


def test_validation_fraction_is_unused_with_given_rows():
    a = SculptRegressor(validation_fraction=0.1, **FAST).fit(X, Y, X_val=XV, y_val=YV)
    b = SculptRegressor(validation_fraction=0.5, **FAST).fit(X, Y, X_val=XV, y_val=YV)
    np.testing.assert_array_equal(a.predict(XV), b.predict(XV))


# ------------------------------------------ (d) the built-in model's raw tables
def raw_frame(n, seed):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "a": rng.normal(size=n),
        "b": rng.normal(size=n),
        "kind": pd.Categorical(rng.choice(["x", "y"], size=n)),
    })
    y = frame["a"] + (frame["kind"] == "x") + 0.1 * rng.normal(size=n)
    return frame, y.to_numpy()


def test_default_model_takes_a_raw_validation_frame_with_nan_and_new_categories():
    frame, y = raw_frame(120, 0)
    frame_val, y_val = raw_frame(30, 1)
    frame_val.loc[::3, "a"] = np.nan
    frame_val["kind"] = frame_val["kind"].cat.add_categories("unseen")
    frame_val.loc[1, "kind"] = "unseen"
    params = dict(max_epochs=3, n_iter_no_change=3, random_state=0)
    reg = SculptRegressor(**params).fit(frame, y, X_val=frame_val, y_val=y_val)
    assert rows_per_epoch(reg, "valid") == len(frame_val)
    assert np.isfinite(reg.history_[:, "valid_loss"]).all()
    # The encoder is fitted on X alone: the same as in a fit without X_val.
    alone = SculptRegressor(**params).fit(frame, y)
    np.testing.assert_array_equal(reg.preprocessor_.transform(frame_val),
                                  alone.preprocessor_.transform(frame_val))
    with pytest.raises(ValueError, match="In X_val: .*same columns"):
        reg.fit(frame, y, X_val=frame_val[["b", "a", "kind"]], y_val=y_val)


# ------------------------------------------------------------------ (e) errors
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(X_val=XV), "X_val was given but y_val was not"),
        (dict(y_val=YV), "y_val was given but X_val was not"),
        (dict(sample_weight_val=np.ones(len(XV))), "sample_weight_val was given without X_val"),
        (dict(X_val=XV[:, :3], y_val=YV), "In X_val: .*3 features, but .* expecting 4"),
        (dict(X_val=np.where(np.eye(60, 4) > 0, np.nan, XV), y_val=YV), "In X_val: .*NaN"),
        (dict(X_val=XV, y_val=np.r_[np.nan, YV[1:]]), "In y_val: .*NaN"),
        (dict(X_val=XV, y_val=np.c_[YV, YV]), "y_val has 2 output.* y has 1"),
        (dict(X_val=XV, y_val=YV[:-1]), "one row per validation sample"),
        (dict(X_val=XV, y_val=YV, sample_weight_val=-np.ones(len(XV))),
         "In sample_weight_val: .*[Nn]egative"),
        (dict(X_val=XV, y_val=YV, sample_weight_val=np.ones(3)), "In sample_weight_val"),
        (dict(X_val=XV, y_val=YV, sample_weight_val=np.zeros(len(XV))),
         "Every X_val row has sample_weight_val 0"),
    ],
    ids=["no-y_val", "no-X_val", "weights-alone", "width", "nan-X_val-user-module",
         "nan-y_val", "n_outputs", "lengths", "negative-weight", "weight-length", "zero-weights"],
)
def test_bad_validation_data_gets_a_clear_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SculptRegressor(**FAST).fit(X, Y, **kwargs)


def test_y_val_follows_the_outputs_of_a_2d_y():
    Y2, YV2 = np.c_[Y, -Y], np.c_[YV, -YV]
    reg = SculptRegressor(**FAST).fit(X, Y2, X_val=XV, y_val=YV2)
    assert reg.risk_scale_.shape == (2,)
    with pytest.raises(ValueError, match="y_val has 1 output.* y has 2"):
        reg.fit(X, Y2, X_val=XV, y_val=YV)


# -------------------------------------------------------- (f) never silently unused
def test_warns_when_the_given_rows_are_used_for_nothing():
    reg = SculptRegressor(early_stopping=False, calibrate_risk=False, **FAST)
    with pytest.warns(UserWarning, match="early_stopping=False and calibrate_risk=False"):
        reg.fit(X, Y, X_val=XV, y_val=YV)
    np.testing.assert_array_equal(reg.risk_scale_, [1.0])
    few = MIN_CALIBRATION_ROWS - 1
    with pytest.warns(UserWarning, match=f"X_val has {few}.*used for nothing"):
        SculptRegressor(early_stopping=False, **FAST).fit(X, Y, X_val=XV[:few], y_val=YV[:few])
    with pytest.warns(UserWarning, match="used for early stopping only"):
        SculptRegressor(**FAST).fit(X, Y, X_val=XV[:few], y_val=YV[:few])


@pytest.mark.parametrize(("early_stopping", "calibrate_risk"), [(True, False), (False, True)])
def test_no_warning_when_the_given_rows_are_used(early_stopping, calibrate_risk):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        SculptRegressor(early_stopping=early_stopping, calibrate_risk=calibrate_risk,
                        **FAST).fit(X, Y, X_val=XV, y_val=YV)


# ----------------------------------------------------------------- (g) best_epoch_
def test_best_epoch_is_the_epoch_whose_weights_are_held():
    reg = SculptRegressor(calibrate_risk=False, **FAST).fit(X, Y, X_val=XV, y_val=YV)
    valid_loss = reg.history_[:, "valid_loss"]
    assert reg.best_epoch_ == int(np.argmin(valid_loss)) + 1 < reg.n_iter_
    np.testing.assert_allclose(validation_nll(reg, XV, YV), valid_loss[reg.best_epoch_ - 1],
                               rtol=1e-4)
    # A saved and loaded model reports it too.
    buffer = io.BytesIO()
    reg.save_params(buffer)
    buffer.seek(0)
    loaded = SculptRegressor(calibrate_risk=False, **FAST).load_params(buffer)
    assert loaded.best_epoch_ == reg.best_epoch_


def test_best_epoch_without_early_stopping_is_the_last_epoch():
    reg = SculptRegressor(early_stopping=False, **FAST).fit(X, Y, X_val=XV, y_val=YV)
    assert reg.best_epoch_ == reg.n_iter_ == len(reg.history_) == FAST["max_epochs"]
    plain = SculptRegressor(early_stopping=False, **FAST).fit(X, Y)
    assert plain.best_epoch_ == FAST["max_epochs"]




def test_best_epoch_after_divergence_recovery():
    reg = SculptRegressor(callbacks=[NaNGradientsAt(6)], calibrate_risk=False,
                          **{**FAST, "n_iter_no_change": 20})
    with pytest.warns(RuntimeWarning, match="Training diverged at epoch 6"):
        reg.fit(X, Y, X_val=XV, y_val=YV)
    valid_loss = reg.history_[:5, "valid_loss"]  # the diverged epoch 6 has none
    assert reg.best_epoch_ == int(np.argmin(valid_loss)) + 1 <= 5
    np.testing.assert_allclose(validation_nll(reg, XV, YV), valid_loss[reg.best_epoch_ - 1],
                               rtol=1e-4)


def test_best_epoch_counts_on_across_warm_starts_and_partial_fit():
    reg = SculptRegressor(early_stopping=False, warm_start=True, calibrate_risk=False,
                          **{**FAST, "max_epochs": 3}).fit(X, Y)
    assert reg.best_epoch_ == 3
    reg.set_params(early_stopping=True, max_epochs=15, n_iter_no_change=15)
    reg.fit(X, Y, X_val=XV, y_val=YV)
    valid_loss = reg.history_[3:, "valid_loss"]
    assert reg.best_epoch_ == 3 + int(np.argmin(valid_loss)) + 1
    np.testing.assert_allclose(validation_nll(reg, XV, YV), valid_loss[reg.best_epoch_ - 4],
                               rtol=1e-4)
    reg.partial_fit(X, Y)
    assert reg.best_epoch_ == len(reg.history_) == 19


# --------------------------------------------------- (h) Pipeline and model selection
def test_pipeline_transforms_x_val_with_transform_input():
    Xs, XVs = 10.0 * X + 5.0, 10.0 * XV + 5.0  # unscaled: the scaler matters
    w = np.random.default_rng(3).uniform(0.5, 2.0, size=len(XV))
    scaler = StandardScaler().fit(Xs)
    by_hand = SculptRegressor(**FAST).fit(
        scaler.transform(Xs), Y, X_val=scaler.transform(XVs), y_val=YV, sample_weight_val=w)
    with sklearn.config_context(enable_metadata_routing=True):
        reg = SculptRegressor(**FAST).set_fit_request(X_val=True, y_val=True,
                                                      sample_weight_val=True)
        pipe = Pipeline([("scale", StandardScaler()), ("reg", reg)], transform_input=["X_val"])
        pipe.fit(Xs, Y, X_val=XVs, y_val=YV, sample_weight_val=w)
    fitted = pipe[-1]
    assert fitted.best_epoch_ == by_hand.best_epoch_
    np.testing.assert_allclose(fitted.risk_scale_, by_hand.risk_scale_, rtol=1e-12)
    np.testing.assert_allclose(pipe.predict(XVs), by_hand.predict(scaler.transform(XVs)),
                               rtol=1e-10)


def test_fit_request_comes_from_the_fit_signature():
    with sklearn.config_context(enable_metadata_routing=True):
        reg = SculptRegressor().set_fit_request(X_val=True, y_val=True,
                                                sample_weight_val=True)
        requests = reg.get_metadata_routing().fit.requests
    assert {k for k, v in requests.items() if v is True} == {"X_val", "y_val",
                                                             "sample_weight_val"}
    assert "sample_weight" in requests
    # partial_fit takes no validation rows.
    with sklearn.config_context(enable_metadata_routing=True):
        assert set(SculptRegressor().get_metadata_routing().partial_fit.requests) == {
            "sample_weight"}


def test_default_model_in_grid_search_with_routing_sees_all_the_given_rows():
    frame, y = raw_frame(90, 0)
    frame_val, y_val = raw_frame(25, 1)
    with sklearn.config_context(enable_metadata_routing=True):
        reg = SculptRegressor(max_epochs=2, n_iter_no_change=2, random_state=0)
        reg.set_fit_request(X_val=True, y_val=True)
        search = GridSearchCV(reg, {"n_layers": [1]}, cv=2).fit(
            frame, y, X_val=frame_val, y_val=y_val)
    # A fit parameter whose length differs from X's is passed whole to every fit.
    assert rows_per_epoch(search.best_estimator_, "valid") == len(frame_val)
    assert rows_per_epoch(search.best_estimator_, "train") == len(frame)


def test_cross_validate_passes_x_val_whole_unless_it_has_as_many_rows_as_x():
    params = dict(**{**FAST, "max_epochs": 2})
    whole = cross_validate(SculptRegressor(**params), X, Y, cv=2, return_estimator=True,
                           params={"X_val": XV, "y_val": YV})
    for est in whole["estimator"]:
        assert rows_per_epoch(est, "valid") == len(XV)
        assert rows_per_epoch(est, "train") == len(X) // 2
    # scikit-learn row-indexes a fit parameter as long as X, as it does sample_weight:
    # each fold then validates on the training fold's share of those rows.
    X_same, Y_same, _ = make_heteroscedastic(n_samples=len(X), random_state=4)
    sliced = cross_validate(SculptRegressor(**params), X, Y, cv=2, return_estimator=True,
                            params={"X_val": X_same, "y_val": Y_same})
    for est in sliced["estimator"]:
        assert rows_per_epoch(est, "valid") == len(X) // 2


# ------------------------------------------------------- (i) parameters unaffected
def test_validation_data_is_not_a_parameter():
    reg = SculptRegressor(**FAST)
    assert not {"X_val", "y_val", "sample_weight_val"} & set(reg.get_params())
    reg.fit(X, Y, X_val=XV, y_val=YV)
    fresh = clone(reg)
    assert not hasattr(fresh, "best_epoch_") and not hasattr(fresh, "net_")
    assert fresh.get_params() == reg.get_params()
