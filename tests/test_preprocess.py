"""The built-in model's input encoding: raw tables in, one finite float32 array out."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import sparse, stats

from sculpt_sklearn._preprocess import TabularPreprocessor

#: Largest |value| QuantileTransformer(output_distribution="normal") returns.
_BOUND = stats.norm.ppf(1 - 1e-7)


def _check_output(Z, n_rows, n_cols):
    assert Z.shape == (n_rows, n_cols)
    assert Z.dtype == np.float32
    assert Z.flags.c_contiguous
    assert np.isfinite(Z).all()


def _raw_frame(n=300, seed=0):
    """A frame as a user has it: NaN, category, str, object, int, bool, nullable."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "x": rng.normal(size=n),
        "gap": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
        "count": rng.integers(0, 5, n),
        "flag": rng.random(n) < 0.3,
        "nullable": pd.array(np.where(rng.random(n) < 0.1, None, rng.integers(0, 9, n)),
                             dtype="Int64"),
        "city": rng.choice(["paris", "oslo", "rome"], n),  # pandas 3: str dtype
        "grade": pd.Categorical(rng.choice(["A", "B"], n)),
        "legacy": pd.Series(rng.choice(["u", "v", None], n), dtype=object),  # pandas 2 style
    })


def test_float_array_has_no_categorical_column(rng):
    X = rng.normal(size=(50, 4))
    prep = TabularPreprocessor(random_state=0).fit(X)
    _check_output(prep.transform(X), 50, 4)
    assert prep.n_numeric_out_ == 4
    assert prep.cat_cardinalities_ == []
    assert prep.categorical_columns_ == []


def test_raw_frame_layout_and_no_warning():
    df = _raw_frame()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prep = TabularPreprocessor(random_state=0).fit(df)
        Z = prep.transform(df)
        Z_new = prep.transform(_raw_frame(n=40, seed=1))
    assert prep.categorical_columns_ == ["city", "grade", "legacy"]
    # count (5 values), flag (2) and nullable (9) are discrete numeric columns.
    assert prep.discrete_columns_ == ["count", "flag", "nullable"]
    # 5 scaled numeric columns, indicators for gap and nullable, then 3 category codes
    # and 3 codes of the discrete columns (each level + 1 for missing or unseen).
    assert prep.n_numeric_out_ == 5 + 2
    assert prep.cat_cardinalities_ == [4, 3, 3, 6, 3, 10]
    _check_output(Z, 300, 7 + 6)
    _check_output(Z_new, 40, 7 + 6)
    np.testing.assert_array_equal(Z[:, 5], df["gap"].isna())
    np.testing.assert_array_equal(Z[:, 6], df["nullable"].isna())
    np.testing.assert_array_equal(Z[:, 10], df["count"] + 1)  # levels 0..4 in order
    np.testing.assert_array_equal(Z[:, 11], df["flag"] + 1)
    nullable = df["nullable"].to_numpy(dtype=float, na_value=np.nan)
    np.testing.assert_array_equal(Z[:, 12], np.where(np.isnan(nullable), 0, nullable + 1))


def test_read_only_columns_give_no_warning(rng):
    arrays = {"x": rng.normal(size=30), "s": np.array(list("abc") * 10, dtype=object)}
    for a in arrays.values():
        a.flags.writeable = False
    df = pd.DataFrame(arrays, copy=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Z = TabularPreprocessor(random_state=0).fit(df).transform(df)
    _check_output(Z, 30, 2)


def test_nan_gets_indicator_and_median_fill(rng):
    x = rng.normal(size=101)
    x[[3, 10, 50]] = np.nan  # 98 observed values: fill with their median
    X = np.c_[x, rng.normal(size=101)]
    prep = TabularPreprocessor(random_state=0).fit(X)
    Z = prep.transform(X)
    _check_output(Z, 101, 3)
    np.testing.assert_array_equal(Z[:, 2], np.isnan(x))
    # The fill is the scaled median: between the scaled values either side of it.
    lo, hi = np.sort(x[~np.isnan(x)])[[48, 49]]
    probe = prep.transform(np.array([[lo, 0.0], [hi, 0.0], [np.nan, 0.0]]))
    assert probe[0, 0] <= probe[2, 0] <= probe[1, 0]
    assert probe[2, 2] == 1 and probe[0, 2] == 0


def test_nan_only_at_transform_is_filled_without_new_column(rng):
    X = rng.normal(size=(40, 2))
    prep = TabularPreprocessor(random_state=0).fit(X)
    Z = prep.transform(np.array([[np.nan, 0.0]]))
    _check_output(Z, 1, 2)


def test_heavy_tailed_column_ends_up_roughly_normal():
    rng = np.random.default_rng(0)
    X = rng.standard_cauchy(size=(3000, 1))
    prep = TabularPreprocessor(random_state=0).fit(X)
    z_fit = prep.transform(X)[:, 0]
    z_new = prep.transform(rng.standard_cauchy(size=(3000, 1)))[:, 0]
    levels = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
    np.testing.assert_allclose(np.quantile(z_fit, levels), stats.norm.ppf(levels), atol=0.05)
    np.testing.assert_allclose(np.quantile(z_new, levels), stats.norm.ppf(levels), atol=0.1)
    assert np.abs(z_fit).max() <= _BOUND + 1e-5
    # New values beyond the fitted range continue linearly (one unit per robust std,
    # IQR / 1.349), so distance from the data is kept: monotone and unbounded.
    high, iqr = X.max(), np.subtract(*np.percentile(X, [75, 25]))
    beyond = prep.transform(np.array([[high + iqr], [high + 10 * iqr]]))[:, 0]
    np.testing.assert_allclose(np.diff(beyond), 9 * 1.3489795, rtol=1e-4)
    assert beyond[0] > z_fit.max()
    # The map is itself estimated from 3000 rows: compare as two samples of 3000
    # (5% critical value of the two-sample Kolmogorov-Smirnov statistic).
    assert stats.kstest(z_new, "norm").statistic < 1.36 * np.sqrt(2 / 3000)


def test_one_huge_outlier_does_not_squash_the_rest(rng):
    x = rng.normal(size=500)
    x[0] = 1e12
    z = TabularPreprocessor(random_state=0).fit(x[:, None]).transform(x[:, None])[:, 0]
    assert 0.8 < z[1:].std() < 1.2
    assert z[0] <= _BOUND + 1e-5


def test_unseen_category_gets_the_missing_code():
    fit = pd.DataFrame({"s": ["a", "b", None, "a", "c"]})
    prep = TabularPreprocessor().fit(fit)
    assert prep.cat_cardinalities_ == [4]  # missing/unseen + a, b, c
    new = pd.DataFrame({"s": pd.Series(["zzz", None, np.nan, pd.NA, "a", "b"], dtype=object)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        codes = prep.transform(new)[:, 0]
    assert codes[0] == codes[1] == codes[2] == codes[3] == 0
    assert codes[4] != codes[5]
    assert set(codes[4:]) <= {1, 2, 3}


def test_high_cardinality_codes_cover_their_range(rng):
    labels = np.array([f"id{i}" for i in range(500)], dtype=object)
    df = pd.DataFrame({"id": labels[rng.permutation(500)]})
    prep = TabularPreprocessor().fit(df)
    codes = prep.transform(df)[:, 0]
    assert prep.cat_cardinalities_ == [501]
    np.testing.assert_array_equal(np.sort(codes), np.arange(1, 501))


def test_mixed_object_column_is_categorical_and_keeps_missing():
    values = ["a", 1, 2.5, None, pd.NA, np.nan, "a", 1]
    df = pd.DataFrame({"m": pd.Series(values, dtype=object)})
    prep = TabularPreprocessor().fit(df)
    codes = prep.transform(df)[:, 0]
    assert prep.categorical_columns_ == ["m"]
    assert prep.cat_cardinalities_ == [4]  # missing + "a", "1", "2.5"
    np.testing.assert_array_equal(codes[3:6], 0)
    assert codes[0] == codes[6] and codes[1] == codes[7]
    assert len({codes[0], codes[1], codes[2]}) == 3 and 0 not in codes[[0, 1, 2]]


@pytest.mark.parametrize(
    "column, categorical",
    [
        (pd.Categorical(["u", "v", "u", "v"]), True),
        (pd.Series(["u", "v", "u", None]), True),  # pandas 3 str
        (pd.Series(["u", "v", "u", None], dtype="string"), True),
        (pd.Series(["u", "v", "u", None], dtype=object), True),  # pandas 2 str
        (pd.Series([1.0, 2.0, 3.0, np.nan]), False),
        (pd.Series([1, 2, 3, 4]), False),
        (pd.Series([True, False, True, False]), False),
        (pd.Series([1, None, 3, 4], dtype="Int64"), False),
        (pd.Series([1, None, 2.5, 4], dtype=object), False),  # numbers in an object column
    ],
)
def test_from_dtype_detection(column, categorical):
    df = pd.DataFrame({"c": column, "x": [0.1, 0.2, 0.3, 0.4]})
    prep = TabularPreprocessor().fit(df)
    assert prep.categorical_columns_ == (["c"] if categorical else [])
    _check_output(prep.transform(df), 4, prep.n_numeric_out_ + len(prep.cat_cardinalities_))


def test_bool_column_is_numeric_and_ordered(rng):
    b = rng.random(100) < 0.3
    # (max_discrete_levels=0: its numeric code alone, without the discrete column's code)
    Z = TabularPreprocessor(max_discrete_levels=0, random_state=0).fit(
        pd.DataFrame({"b": b})).transform(
        pd.DataFrame({"b": [False, True]}))
    assert Z.shape == (1 * 2, 1) and Z[0, 0] < Z[1, 0]


def test_object_array_columns_follow_their_values():
    X = np.array([[1.0, "a"], [2.0, None], [np.nan, "b"], [4.0, "a"]], dtype=object)
    prep = TabularPreprocessor(max_discrete_levels=0).fit(X)
    assert prep.categorical_columns_ == [1]
    assert prep.cat_cardinalities_ == [3]
    _check_output(prep.transform(X), 4, prep.n_numeric_out_ + 1)


@pytest.mark.parametrize("spec", [["s", "k"], [1, 2], [False, True, True], np.array([2, 1])])
def test_explicit_categorical_features(rng, spec):
    df = pd.DataFrame({
        "x": rng.normal(size=20),
        "s": rng.choice(["a", "b"], 20),
        "k": rng.integers(0, 3, 20),  # integer codes, categorical only when asked
    })
    prep = TabularPreprocessor(categorical_features=spec).fit(df)
    assert sorted(prep.categorical_columns_) == ["k", "s"]
    assert prep.n_numeric_out_ == 1
    Z = prep.transform(df)
    _check_output(Z, 20, 3)
    assert set(np.unique(Z[:, 1:])) <= {1, 2, 3}


def test_explicit_numeric_categorical_maps_unseen_number_to_missing():
    X = np.array([[1.0, 0.5], [2.0, 0.1], [np.nan, 0.7], [2.0, 0.3]])
    prep = TabularPreprocessor(categorical_features=[0], max_discrete_levels=0).fit(X)
    assert prep.categorical_columns_ == [0]
    assert prep.cat_cardinalities_ == [3]
    codes = prep.transform(np.array([[1.0, 0.5], [2.0, 0.5], [7.0, 0.5], [np.nan, 0.5]]))[:, -1]
    assert codes[0] != codes[1] and codes[0] > 0 and codes[1] > 0
    assert codes[2] == codes[3] == 0


def test_none_treats_every_column_as_numeric(rng):
    df = pd.DataFrame({"k": rng.integers(0, 3, 20), "x": rng.normal(size=20)})
    prep = TabularPreprocessor(categorical_features=None).fit(df)
    assert prep.categorical_columns_ == [] and prep.n_numeric_out_ == 2


@pytest.mark.parametrize(
    "spec, match",
    [
        ("auto", "not understood"),
        (3, "1-D array-like"),
        ([[0]], "1-D array-like"),
        ([5], r"outside \[0, 1\]"),
        ([-1], r"outside \[0, 1\]"),
        (["zz"], "not columns of X"),
        ([True], "boolean mask has 1 entries but X has 2 columns"),
        ([0.5], "integer indices, column names or booleans"),
    ],
)
def test_bad_categorical_features(spec, match):
    df = pd.DataFrame({"a": [1.0, 2.0], "b": [1.0, 3.0]})
    with pytest.raises(ValueError, match=match):
        TabularPreprocessor(categorical_features=spec).fit(df)


def test_names_need_a_frame():
    with pytest.raises(ValueError, match="needs X as a pandas DataFrame"):
        TabularPreprocessor(categorical_features=["a"]).fit(np.ones((3, 2)))


def test_inf_is_refused_with_the_column_name():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, np.inf, 0.0]})
    with pytest.raises(ValueError, match="Column 'b' holds infinite values; replace them with NaN"):
        TabularPreprocessor().fit(df)
    prep = TabularPreprocessor().fit(df.assign(b=[1.0, 2.0, 0.0]))
    with pytest.raises(ValueError, match="Column 'b' holds infinite"):
        prep.transform(df)


def test_text_column_declared_numeric_is_refused():
    df = pd.DataFrame({"a": ["x", "y", "z"]})
    with pytest.raises(ValueError, match="Column 'a' .* is not numeric and not categorical"):
        TabularPreprocessor(categorical_features=None).fit(df)


def test_datetime_column_is_refused():
    df = pd.DataFrame({"d": pd.to_datetime(["2020-01-01", "2021-01-01"])})
    with pytest.raises(ValueError, match="neither numeric nor categorical"):
        TabularPreprocessor().fit(df)


def test_constant_and_empty_columns_do_not_crash(rng):
    n = 50
    df = pd.DataFrame({
        "x": rng.normal(size=n),
        "const": np.ones(n),
        "const_gap": np.where(np.arange(n) % 3 == 0, np.nan, 2.0),
        "empty": np.full(n, np.nan),
        "empty_cat": pd.Series([None] * n, dtype=object),
    })
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prep = TabularPreprocessor(categorical_features=["empty_cat"], random_state=0).fit(df)
        Z = prep.transform(df)
    # Scaled: x only. Indicators: const_gap (empty's would be constant). Codes: empty_cat.
    assert prep.n_numeric_out_ == 2
    assert prep.cat_cardinalities_ == [1]
    _check_output(Z, n, 3)
    np.testing.assert_array_equal(Z[:, 1], df["const_gap"].isna())
    np.testing.assert_array_equal(Z[:, 2], 0)


def test_same_random_state_same_output_and_frames_match_arrays(rng):
    df = _raw_frame()
    a = TabularPreprocessor(random_state=3).fit(df)
    b = TabularPreprocessor(random_state=3).fit(df)
    np.testing.assert_array_equal(a.transform(df), b.transform(df))
    np.testing.assert_array_equal(a.transform(df), a.transform(df))
    X = rng.normal(size=(60, 3))
    prep = TabularPreprocessor(random_state=0).fit(X)
    np.testing.assert_array_equal(
        prep.transform(X), TabularPreprocessor(random_state=0).fit(pd.DataFrame(X)).transform(X)
    )


def test_sample_weight_is_accepted_and_ignored(rng):
    X = rng.normal(size=(60, 2))
    plain = TabularPreprocessor(random_state=0).fit(X).transform(X)
    weighted = TabularPreprocessor(random_state=0).fit(X, sample_weight=rng.random(60)).transform(X)
    np.testing.assert_array_equal(plain, weighted)


def test_wrong_width_sparse_and_empty_are_refused(rng):
    prep = TabularPreprocessor().fit(rng.normal(size=(10, 3)))
    with pytest.raises(ValueError, match="X has 2 columns but the preprocessor was fitted on 3"):
        prep.transform(rng.normal(size=(4, 2)))
    with pytest.raises(TypeError, match="sparse"):
        TabularPreprocessor().fit(sparse.csr_matrix(np.eye(3)))
    with pytest.raises(ValueError, match="no rows"):
        TabularPreprocessor().fit(np.empty((0, 2)))
    with pytest.raises(ValueError, match="2-D"):
        TabularPreprocessor().fit(np.ones(5))


def test_discrete_numeric_column_is_also_coded_as_a_category(rng):
    # A numeric column with few levels keeps its scaled value and gets a category
    # code; a level unseen in fit, and a missing value, get code 0; the numeric
    # part still tells unseen values apart.
    levels = np.array([0.5, 1.0, 2.5, 4.0])
    x = levels[rng.integers(0, 4, 200)]
    x[:5] = np.nan
    X = np.c_[x, rng.normal(size=200)]
    prep = TabularPreprocessor(max_discrete_levels=4, random_state=0).fit(X)
    assert prep.discrete_columns_ == [0]
    assert prep.cat_cardinalities_ == [5]
    Z = prep.transform(np.array([[0.5, 0.0], [4.0, 0.0], [3.0, 0.0], [5.0, 0.0], [np.nan, 0.0]]))
    # columns: x scaled, y scaled, x's missing indicator, x's code
    np.testing.assert_array_equal(Z[:, 3], [1, 4, 0, 0, 0])
    assert Z[2, 0] < Z[3, 0]  # 3.0 and 5.0 share code 0 but not their numeric code
    np.testing.assert_array_equal(Z[:, 2], [0, 0, 0, 0, 1])


@pytest.mark.parametrize("limit, expected", [(0, []), (3, []), (4, [0]), (50, [0, 1])])
def test_max_discrete_levels_sets_which_columns_are_discrete(rng, limit, expected):
    X = np.c_[rng.integers(0, 4, 300), rng.integers(0, 40, 300), rng.normal(size=300),
              np.ones(300)]  # 4 levels, 40 levels, continuous, constant
    prep = TabularPreprocessor(max_discrete_levels=limit, random_state=0).fit(X)
    assert prep.discrete_columns_ == expected
    assert prep.transform(X).shape[1] == 3 + len(expected)


@pytest.mark.parametrize("limit", [-1, 2.5, True])
def test_bad_max_discrete_levels_is_refused(rng, limit):
    with pytest.raises(ValueError, match="max_discrete_levels must be a non-negative integer"):
        TabularPreprocessor(max_discrete_levels=limit).fit(rng.normal(size=(20, 2)))


# -- the fitted maps as plain arrays, against scikit-learn's transformers --------------


def test_quantile_codes_equal_scikit_learns_quantile_transformer(rng):
    from sklearn.preprocessing import QuantileTransformer

    from sculpt_sklearn._encoding import normal_quantile_codes

    X = np.c_[rng.normal(size=400), rng.integers(0, 5, 400).astype(float),
              rng.exponential(size=400) ** 3]
    X[::13, 0] = np.nan
    qt = QuantileTransformer(n_quantiles=37, output_distribution="normal",
                             random_state=0).fit(X)
    new = np.r_[X, [[-50.0, -1.0, 1e9], [np.nan, 2.0, 0.0], [0.1, 4.0, -3.0]]]
    np.testing.assert_array_equal(normal_quantile_codes(new, qt.quantiles_, qt.references_),
                                  qt.transform(new))


def test_category_codes_equal_scikit_learns_ordinal_encoder_plus_one():
    from sklearn.preprocessing import OrdinalEncoder

    from sculpt_sklearn._encoding import category_codes, fit_categories

    block = np.array([["b", 2.0], ["a", np.nan], [None, 1.0], ["c", 2.0], ["a", 0.5]],
                     dtype=object)
    encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                             encoded_missing_value=-1).fit(block)
    new = np.array([["a", 0.5], ["z", 3.0], [np.nan, np.nan], ["c", 1.0]], dtype=object)
    categories = fit_categories(block)
    assert categories == [["a", "b", "c"], [0.5, 1.0, 2.0]]
    np.testing.assert_array_equal(category_codes(new, categories), encoder.transform(new) + 1)


def test_medians_and_indicators_equal_scikit_learns_imputer_and_indicator(rng):
    from sklearn.impute import MissingIndicator, SimpleImputer

    X = np.c_[rng.normal(size=300), rng.normal(size=300), rng.normal(size=300)]
    X[::7, 0] = np.nan
    X[::11, 2] = np.nan
    prep = TabularPreprocessor(max_discrete_levels=0, random_state=0).fit(X)
    codes = prep._normal_codes(X)
    np.testing.assert_array_equal(prep._medians,
                                  SimpleImputer(strategy="median").fit(codes).statistics_)
    out = prep.transform(X)
    indicator = MissingIndicator(features="missing-only").fit(X)
    np.testing.assert_array_equal(out[:, 3:], indicator.transform(X).astype(np.float32))
    filled = SimpleImputer(strategy="median").fit(codes).transform(codes)
    np.testing.assert_allclose(out[:, :3], filled.astype(np.float32), rtol=0, atol=0)


def test_the_fitted_state_rebuilds_an_encoder_that_transforms_alike(rng):
    frame = pd.DataFrame({
        "x": rng.normal(size=120), "city": rng.choice(["a", "b", None], 120),
        "rooms": rng.integers(1, 4, 120), "flag": rng.choice([True, False], 120),
    })
    frame.loc[::5, "x"] = np.nan
    prep = TabularPreprocessor(random_state=0).fit(frame)
    state = prep.fitted_state()
    rebuilt = TabularPreprocessor.from_fitted_state(state)
    new = frame.copy()
    new.loc[0, "city"] = "unseen"
    new.loc[1, "x"] = 1e6
    np.testing.assert_array_equal(rebuilt.transform(new), prep.transform(new))
    assert rebuilt.cat_cardinalities_ == prep.cat_cardinalities_
    with pytest.raises(ValueError, match="lacks"):
        TabularPreprocessor.from_fitted_state({k: v for k, v in state.items() if k != "_medians"})
