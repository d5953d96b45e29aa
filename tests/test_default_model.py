"""The built-in default: raw tables in, and where the uncertainty comes from (issue 12)."""

import warnings

import numpy as np
import pandas as pd
import pytest

from sculpt_sklearn import SculptRegressor
from sculpt_sklearn.models import TabMModule

FAST = dict(max_epochs=20, random_state=0)


def raw_frame(n, seed):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "size": rng.normal(size=n),
        "age": rng.exponential(3.0, size=n),
        "colour": pd.Categorical(rng.choice(["red", "green", "blue"], size=n)),
        "city": rng.choice(["Paris", "Oslo", None], size=n).astype(object),
    })
    frame.loc[rng.random(n) < 0.1, "size"] = np.nan
    y = (np.nan_to_num(frame["size"].to_numpy()) * 2 + (frame["colour"] == "red") * 3
         + rng.normal(size=n) * (1 + (frame["city"] == "Oslo")))
    return frame, y.to_numpy() if hasattr(y, "to_numpy") else y


def test_raw_frame_with_nan_category_and_text_fits_and_predicts_without_warnings():
    frame, y = raw_frame(300, 0)
    new, _ = raw_frame(50, 1)
    new.loc[0, "colour"] = np.nan
    new["colour"] = new["colour"].cat.add_categories(["purple"])
    new.loc[1, "colour"] = "purple"  # unseen in fit: treated as missing
    new.loc[2, "city"] = "Lima"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg = SculptRegressor(**FAST).fit(frame, y)
        u = reg.predict_uncertainty(new)
    # Two networks side by side on small data (n_networks="auto"), each a TabMModule.
    assert reg.n_networks_ == 2
    assert all(isinstance(part.model, TabMModule) for part in reg.module_.parts)
    assert reg.preprocessor_.categorical_columns_ == ["colour", "city"]
    assert all(np.isfinite(v).all() and v.shape == (50,) for v in u.values())
    np.testing.assert_array_equal(reg.feature_names_in_, frame.columns)
    # The rows with an unseen category predict like the same rows with it missing.
    missing = new.copy()
    missing.loc[1, "colour"] = np.nan
    missing.loc[2, "city"] = None
    np.testing.assert_allclose(reg.predict(new), reg.predict(missing), rtol=1e-12)


def test_categorical_features_can_be_named():
    frame, y = raw_frame(200, 0)
    frame["code"] = np.random.default_rng(2).integers(0, 3, size=len(frame))
    reg = SculptRegressor(categorical_features=["colour", "city", "code"], **FAST).fit(frame, y)
    assert reg.preprocessor_.categorical_columns_ == ["colour", "city", "code"]
    assert len(reg.preprocessor_.cat_cardinalities_) == 3


def test_epistemic_part_grows_far_from_the_training_data():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(600, 1))
    y = np.sin(3 * x[:, 0]) + 0.1 * rng.normal(size=600)
    reg = SculptRegressor(max_epochs=100, random_state=0).fit(x, y)
    inside = reg.predict_uncertainty(np.linspace(-0.9, 0.9, 50)[:, None])
    near = reg.predict_uncertainty(np.linspace(8, 10, 50)[:, None])
    outside = reg.predict_uncertainty(np.linspace(20, 30, 50)[:, None])
    # Measured: medians 0.012, 0.052, 0.14 (the members disagree more the farther out).
    assert np.median(near.epistemic) > 3 * np.median(inside.epistemic)
    assert np.median(outside.epistemic) > 2 * np.median(near.epistemic)
    np.testing.assert_allclose(outside.total**2, outside.aleatoric**2 + outside.epistemic**2,
                               rtol=1e-12)


def test_one_member_has_no_epistemic_part():
    frame, y = raw_frame(200, 0)
    reg = SculptRegressor(module__k=1, n_networks=1, **FAST).fit(frame, y)
    u = reg.predict_uncertainty(frame)
    np.testing.assert_array_equal(u.epistemic, 0.0)
    np.testing.assert_array_equal(u.total, u.aleatoric)


@pytest.mark.parametrize("embeddings", ["periodic", "none"])
def test_other_embeddings(embeddings):
    frame, y = raw_frame(150, 0)
    reg = SculptRegressor(module__embeddings=embeddings, max_epochs=3, random_state=0)
    assert np.isfinite(reg.fit(frame, y).predict(frame)).all()


def test_large_data_rule_and_save_params_rebuild_the_same_ensemble(tmp_path):
    from sculpt_sklearn._defaults import tabm_module_kwargs

    x = np.random.default_rng(0).normal(size=(50, 2))
    assert tabm_module_kwargs(x, 2, [], 20000, {})["k"] == 8
    assert tabm_module_kwargs(x, 2, [], 2000, {})["k"] == 16
    assert tabm_module_kwargs(x, 2, [], 20000, {"k": 4})["k"] == 4
    frame, y = raw_frame(150, 0)
    reg = SculptRegressor(module__k=3, max_epochs=2, random_state=0).fit(frame, y)
    reg.save_params(tmp_path / "w.pt")
    loaded = SculptRegressor(module__k=3).load_params(tmp_path / "w.pt")
    assert loaded.module_.part_sizes == [3, 3]  # two networks of 3 members each
    np.testing.assert_array_equal(loaded.predict(frame), reg.predict(frame))


def test_discrete_numeric_columns_reach_the_model_as_categories(tmp_path):
    # "rooms" has 6 levels: the model gets it as a number and as a category code;
    # a level unseen in fit (9) is placed by its number alone, and save_params keeps
    # the encoding.
    frame, y = raw_frame(200, 0)
    frame["rooms"] = np.random.default_rng(3).integers(1, 7, size=len(frame))
    reg = SculptRegressor(**FAST).fit(frame, y)
    prep = reg.preprocessor_
    assert prep.discrete_columns_ == ["rooms"]
    assert reg._resolved.module_kwargs["cat_cardinalities"] == [4, 3, 7]  # colour, city, rooms
    plain = SculptRegressor(max_discrete_levels=0, **FAST).fit(frame, y)
    assert plain.preprocessor_.discrete_columns_ == []
    assert plain._resolved.module_kwargs["cat_cardinalities"] == [4, 3]
    new = frame.iloc[:5].copy()
    new["rooms"] = 9
    assert np.isfinite(reg.predict(new)).all()
    reg.save_params(tmp_path / "w.pt")
    loaded = SculptRegressor().load_params(tmp_path / "w.pt")
    np.testing.assert_array_equal(loaded.predict(new), reg.predict(new))


def test_bad_max_discrete_levels_is_refused_by_fit():
    frame, y = raw_frame(50, 0)
    with pytest.raises(ValueError, match="max_discrete_levels"):
        SculptRegressor(max_discrete_levels=-1, **FAST).fit(frame, y)


def test_auto_family_is_student_t_for_the_built_in_model_and_normal_for_a_users_module():
    from sklearn.base import clone

    from sculpt_sklearn import MLP, sculpt

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X[:, 0] + 0.3 * rng.standard_t(3, size=60)
    assert SculptRegressor().get_params()["distribution"] == "auto"
    default = SculptRegressor(max_epochs=2, random_state=0).fit(X, y)
    assert default.distribution_ is sculpt.StudentT and default.distribution_.df == 5
    assert clone(default).get_params()["distribution"] == "auto"  # resolved at fit only
    shouted = SculptRegressor(distribution="AUTO", max_epochs=2, random_state=0).fit(X, y)
    assert shouted.distribution_ is sculpt.StudentT
    assert SculptRegressor(MLP, max_epochs=2, random_state=0).fit(X, y).distribution_ \
        is sculpt.Normal
    chosen = SculptRegressor(distribution="normal", max_epochs=2, random_state=0).fit(X, y)
    assert chosen.distribution_ is sculpt.Normal
    mean, std = default.predict(X[:5], return_std=True)
    dist = default.predict_dist(X[:5])
    assert dist.dist.name == "t"
    np.testing.assert_allclose(dist.std(), std, rtol=1e-12)
    np.testing.assert_allclose(dist.mean(), mean, rtol=1e-12)


def test_auto_loads_the_family_a_weights_file_names_and_a_named_family_must_match(tmp_path):
    from sculpt_sklearn import sculpt

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X[:, 0] + 0.3 * rng.normal(size=60)
    path = tmp_path / "weights.pt"
    SculptRegressor(max_epochs=2, random_state=0).fit(X, y).save_params(path)
    with pytest.raises(ValueError, match="distribution='studentt'"):
        SculptRegressor(distribution="normal").load_params(path)
    assert SculptRegressor(distribution="studentt").load_params(path).distribution_ \
        is sculpt.StudentT
    # A file of the earlier Normal default, or of another df, loads into "auto" as it was.
    for family in ("normal", sculpt.StudentT.with_df(3)):
        reg = SculptRegressor(distribution=family, max_epochs=2, random_state=0).fit(X, y)
        reg.save_params(path)
        loaded = SculptRegressor().load_params(path)
        assert loaded.distribution_ is reg.distribution_
        for a, b in zip(reg.predict(X[:5], return_std=True),
                        loaded.predict(X[:5], return_std=True), strict=True):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(loaded.predict_dist(X[:5]).std(),
                                   reg.predict_dist(X[:5]).std(), rtol=1e-12)
