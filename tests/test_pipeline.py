"""The uncertainty verbs through a Pipeline, and intervals at several levels."""

import inspect
import pickle
import subprocess
import sys

import joblib
import numpy as np
import pytest
import sklearn
from scipy import stats
from sklearn import pipeline as sk_pipeline
from sklearn.base import clone, is_regressor
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_html_repr
from sklearn.utils.validation import get_tags

import sculpt_sklearn
from sculpt_sklearn import MLP, SculptRegressor
from sculpt_sklearn.calibration import RecalibratedRegressor
from sculpt_sklearn.datasets import make_heteroscedastic
from sculpt_sklearn.metrics import coverage, interval_score
from sculpt_sklearn.pipeline import Pipeline, make_pipeline

FAST = dict(module=MLP, module__hidden_layer_sizes=(16,), max_epochs=20, random_state=0)
VERBS = ("predict_interval", "predict_quantiles", "predict_dist", "predict_uncertainty", "sample")


@pytest.fixture(scope="module")
def data():
    X, y, _ = make_heteroscedastic(n_samples=150, random_state=0)
    y2 = np.column_stack([y, 0.5 * y + X[:, 2]])
    return X * 10.0 + 3.0, y, y2


@pytest.fixture(scope="module")
def fitted(data):
    """A fitted two-step pipeline, for 1-D and for 2-D y."""
    X, y, y2 = data
    return {
        ndim: Pipeline([("scale", StandardScaler()), ("reg", SculptRegressor(**FAST))]).fit(X, t)
        for ndim, t in ((1, y), (2, y2))
    }


def _manual(pipe, verb, X, *args, **kwargs):
    """The two-step call the Pipeline replaces."""
    return getattr(pipe[-1], verb)(pipe[:-1].transform(X), *args, **kwargs)


def _assert_same(a, b):
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for u, v in zip(a, b, strict=True):
            np.testing.assert_array_equal(u, v)
    elif isinstance(a, dict):  # a Bunch
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
    elif hasattr(a, "ppf"):  # a frozen scipy.stats distribution
        for moment in ("mean", "std"):
            np.testing.assert_array_equal(getattr(a, moment)(), getattr(b, moment)())
        np.testing.assert_array_equal(a.ppf(0.3), b.ppf(0.3))
    else:
        np.testing.assert_array_equal(a, b)


CALLS = [
    ("predict_interval", (), {}),
    ("predict_interval", (), {"confidence_level": 0.5}),
    ("predict_interval", (0.8,), {}),
    ("predict_interval", (), {"confidence_level": [0.5, 0.9]}),
    ("predict_quantiles", ([0.1, 0.5, 0.9],), {}),
    ("predict_quantiles", (), {"quantiles": 0.25}),
    ("predict_dist", (), {}),
    ("predict_uncertainty", (), {}),
    ("sample", (), {"n_samples": 3, "random_state": 0}),
]


# ------------------------------------------------------------------ make_pipeline
def test_make_pipeline_mirrors_scikit_learn():
    ours = inspect.signature(make_pipeline).parameters
    theirs = inspect.signature(sk_pipeline.make_pipeline).parameters
    assert list(ours) == list(theirs)
    assert all(ours[n].default == theirs[n].default for n in ours if n != "steps")
    steps = (StandardScaler(), "passthrough", SculptRegressor(**FAST))
    pipe = make_pipeline(*steps, memory=None, verbose=True)
    reference = sk_pipeline.make_pipeline(*steps, verbose=True)
    assert type(pipe) is Pipeline and isinstance(pipe, sk_pipeline.Pipeline)
    assert [name for name, _ in pipe.steps] == [name for name, _ in reference.steps]
    assert all(a is b for (_, a), (_, b) in zip(pipe.steps, reference.steps, strict=True))
    assert pipe.get_params(deep=False).keys() == reference.get_params(deep=False).keys()
    assert pipe.verbose is True and pipe.memory is None
    assert make_pipeline(Ridge(), transform_input=["X_val"]).transform_input == ["X_val"]


def test_make_pipeline_transform_input_reaches_fit(data):
    # the validation rows go through the scaler, as with scikit-learn's make_pipeline
    X, y, _ = data
    scaler = StandardScaler().fit(X[:100])
    by_hand = SculptRegressor(**FAST).fit(scaler.transform(X[:100]), y[:100],
                                          X_val=scaler.transform(X[100:]), y_val=y[100:])
    with sklearn.config_context(enable_metadata_routing=True):
        reg = SculptRegressor(**FAST).set_fit_request(X_val=True, y_val=True)
        pipe = make_pipeline(StandardScaler(), reg, transform_input=["X_val"])
        pipe.fit(X[:100], y[:100], X_val=X[100:], y_val=y[100:])
    assert pipe[-1].best_epoch_ == by_hand.best_epoch_
    np.testing.assert_allclose(pipe.predict_interval(X[100:])[0],
                               by_hand.predict_interval(scaler.transform(X[100:]))[0],
                               rtol=1e-10)


def test_the_module_and_its_names_are_public():
    code = ("import sculpt_sklearn; m = sculpt_sklearn.pipeline; "
            "print(m.Pipeline.__module__, m.make_pipeline.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.split() == ["sculpt_sklearn.pipeline", "make_pipeline"]
    assert sculpt_sklearn.pipeline.Pipeline is Pipeline
    assert sculpt_sklearn.pipeline.make_pipeline is make_pipeline
    assert "pipeline" in dir(sculpt_sklearn) and "pipeline" in sculpt_sklearn.__all__
    assert "Parameters" in inspect.getdoc(Pipeline)
    for obj in (make_pipeline, *(getattr(Pipeline, verb) for verb in VERBS)):
        assert "Parameters" in inspect.getdoc(obj) and "Returns" in inspect.getdoc(obj)


# ------------------------------------------------------------------ the verbs
@pytest.mark.parametrize("ndim", [1, 2])
@pytest.mark.parametrize(("verb", "args", "kwargs"), CALLS)
def test_verbs_equal_the_manual_two_step_call(fitted, data, ndim, verb, args, kwargs):
    pipe, X = fitted[ndim], data[0][:20]
    _assert_same(getattr(pipe, verb)(X, *args, **kwargs), _manual(pipe, verb, X, *args, **kwargs))


def test_transforms_run_before_the_final_step(fitted, data):
    # X is far from standardised: skipping the scaler would change the result
    pipe, X = fitted[1], data[0][:20]
    lower, upper = pipe.predict_interval(X)
    assert not np.allclose(pipe[-1].predict_interval(X)[0], lower)
    mean, std = pipe.predict(X, return_std=True)
    z = stats.norm.ppf(0.95)
    np.testing.assert_allclose(lower, mean - z * std, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(upper, mean + z * std, rtol=1e-9, atol=1e-12)


def test_passthrough_steps_are_skipped(fitted, data):
    pipe, X = fitted[1], data[0][:20]
    longer = Pipeline([("skip", "passthrough"), *pipe.steps[:-1], ("none", None),
                       pipe.steps[-1]])
    for verb, args, kwargs in CALLS:
        _assert_same(getattr(longer, verb)(X, *args, **kwargs),
                     getattr(pipe, verb)(X, *args, **kwargs))


def test_with_metadata_routing_enabled(fitted, data):
    pipe, X = fitted[1], data[0][:20]
    with sklearn.config_context(enable_metadata_routing=True):
        for verb, args, kwargs in CALLS:
            _assert_same(getattr(pipe, verb)(X, *args, **kwargs),
                         _manual(pipe, verb, X, *args, **kwargs))


def test_an_unfitted_pipeline_says_so(data):
    pipe = make_pipeline(StandardScaler(), SculptRegressor(**FAST))
    for verb in VERBS:
        with pytest.raises(NotFittedError, match="Pipeline instance is not fitted"):
            getattr(pipe, verb)(data[0][:5])


def test_verbs_exist_only_when_the_final_step_has_them(data):
    X, y, _ = data
    ridge = make_pipeline(StandardScaler(), Ridge()).fit(X, y)
    assert hasattr(ridge, "predict")
    for verb in VERBS:
        assert not hasattr(ridge, verb)
        assert not hasattr(make_pipeline(StandardScaler(), "passthrough"), verb)
        assert hasattr(make_pipeline(StandardScaler(), SculptRegressor()), verb)
    with pytest.raises(AttributeError, match="predict_interval"):
        ridge.predict_interval(X)
    has = {
        method: {verb for verb in VERBS if hasattr(
            make_pipeline(StandardScaler(), RecalibratedRegressor(Ridge(), method=method)), verb
        )}
        for method in ("scale", "isotonic")
    }
    assert has == {"scale": {"predict_interval", "predict_quantiles", "predict_dist"},
                   "isotonic": {"predict_interval", "predict_quantiles"}}


# ------------------------------------------------------------------ a real Pipeline
def test_clone_and_params(fitted):
    pipe = fitted[1]
    copy = clone(pipe)
    assert type(copy) is Pipeline and copy is not pipe
    assert copy.get_params()["reg__n_layers"] == pipe.get_params()["reg__n_layers"]
    assert copy.set_params(reg__n_layers=2).named_steps["reg"].n_layers == 2
    assert not hasattr(copy[-1], "net_")  # clone is unfitted
    assert is_regressor(pipe) and get_tags(pipe).target_tags.multi_output
    for html in (estimator_html_repr(pipe), pipe._repr_html_()):
        assert all(part in html for part in ("Pipeline", "scale", "StandardScaler",
                                             "reg", "SculptRegressor"))
    assert type(pipe[:-1]) is Pipeline


@pytest.mark.parametrize("search_class", [GridSearchCV, RandomizedSearchCV])
def test_search_best_estimator_has_the_verbs(data, search_class):
    X, y, _ = data
    pipe = Pipeline([("scale", StandardScaler()), ("reg", SculptRegressor(**FAST))])
    grid = {"reg__n_layers": [1, 2]}
    kwargs = {"n_iter": 2, "random_state": 0} if search_class is RandomizedSearchCV else {}
    search = search_class(pipe, grid, cv=2, **kwargs).fit(X, y)
    best = search.best_estimator_
    assert type(best) is Pipeline and best[-1].n_layers == search.best_params_["reg__n_layers"]
    for verb, args, kw in CALLS:
        _assert_same(getattr(best, verb)(X[:10], *args, **kw),
                     _manual(best, verb, X[:10], *args, **kw))
    # the search itself forwards predict(X) only, with no keywords and no other verbs
    np.testing.assert_array_equal(search.predict(X[:10]), best.predict(X[:10]))
    with pytest.raises(TypeError, match="return_risk"):
        search.predict(X[:10], return_risk=True)
    assert not hasattr(search, "predict_interval")


def test_pickle_and_joblib_round_trips_are_identical(fitted, data, tmp_path):
    pipe, X = fitted[2], data[0][:20]
    joblib.dump(pipe, tmp_path / "pipe.joblib")
    for again in (pickle.loads(pickle.dumps(pipe)), joblib.load(tmp_path / "pipe.joblib")):
        assert type(again) is Pipeline
        for verb, args, kwargs in CALLS:
            _assert_same(getattr(again, verb)(X, *args, **kwargs),
                         getattr(pipe, verb)(X, *args, **kwargs))


# ------------------------------------------------------- RecalibratedRegressor last
@pytest.fixture(scope="module")
def recalibrated(data):
    """Fitted RecalibratedRegressor (both methods) for 1-D and 2-D y, bare."""
    X, y, y2 = data
    Xs = StandardScaler().fit_transform(X)
    return {
        (method, ndim): RecalibratedRegressor(
            SculptRegressor(**FAST), method=method, calibration_fraction=0.4, random_state=0
        ).fit(Xs, t)
        for method in ("scale", "isotonic")
        for ndim, t in ((1, y), (2, y2))
    }


@pytest.mark.parametrize("method", ["scale", "isotonic"])
def test_recalibrated_regressor_as_the_final_step(data, method):
    X, y, _ = data
    pipe = make_pipeline(StandardScaler(), RecalibratedRegressor(
        SculptRegressor(**FAST), method=method, calibration_fraction=0.4, random_state=0))
    pipe.fit(X, y)
    calls = [c for c in CALLS if hasattr(pipe[-1], c[0])]
    assert {c[0] for c in calls} == (
        {"predict_interval", "predict_quantiles", "predict_dist"} if method == "scale"
        else {"predict_interval", "predict_quantiles"}
    )
    for verb, args, kwargs in calls:
        _assert_same(getattr(pipe, verb)(X[:20], *args, **kwargs),
                     _manual(pipe, verb, X[:20], *args, **kwargs))


# ------------------------------------------------------------ several levels
LEVELS = [0.9, 0.5, 0.8, 0.5]  # not sorted, one repeated: the order given is kept


def _estimators(fitted, recalibrated, ndim):
    return {
        "sculpt": fitted[ndim][-1],
        "scale": recalibrated["scale", ndim],
        "isotonic": recalibrated["isotonic", ndim],
    }


@pytest.mark.parametrize("ndim", [1, 2])
@pytest.mark.parametrize("kind", ["sculpt", "scale", "isotonic"])
@pytest.mark.parametrize("as_type", [list, tuple, np.array])
def test_several_levels_equal_the_one_level_calls_stacked(
    fitted, recalibrated, data, ndim, kind, as_type
):
    est = _estimators(fitted, recalibrated, ndim)[kind]
    X = StandardScaler().fit(data[0]).transform(data[0][:20])
    lower, upper = est.predict_interval(X, confidence_level=as_type(LEVELS))
    n_outputs = () if ndim == 1 else (2,)
    assert lower.shape == upper.shape == (20, *n_outputs, len(LEVELS))
    for i, level in enumerate(LEVELS):
        one_lower, one_upper = est.predict_interval(X, confidence_level=level)
        assert one_lower.shape == (20, *n_outputs)
        np.testing.assert_array_equal(lower[..., i], one_lower)
        np.testing.assert_array_equal(upper[..., i], one_upper)
    # wider at higher levels, and the same as the quantiles at 0.5 -+ level / 2
    assert np.all(lower[..., 0] <= lower[..., 2]) and np.all(lower[..., 2] <= lower[..., 1])
    q = est.predict_quantiles(X, [0.05, 0.95])
    np.testing.assert_allclose(lower[..., 0], q[..., 0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(upper[..., 0], q[..., 1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("ndim", [1, 2])
def test_several_levels_match_scipy_and_keep_a_level_axis_of_one(fitted, data, ndim):
    pipe, X = fitted[ndim], data[0][:20]
    mean, std = pipe.predict(X, return_std=True)
    lower, upper = pipe.predict_interval(X, confidence_level=[0.5, 0.95])
    for i, level in enumerate([0.5, 0.95]):
        z = stats.norm.ppf(0.5 + level / 2)
        np.testing.assert_allclose(lower[..., i], mean - z * std, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(upper[..., i], mean + z * std, rtol=1e-9, atol=1e-12)
    one = pipe.predict_interval(X, confidence_level=[0.9])
    assert one[0].shape == (*mean.shape, 1)
    np.testing.assert_array_equal(one[0][..., 0], pipe.predict_interval(X)[0])
    scalar = pipe.predict_interval(X, confidence_level=np.float64(0.9))
    assert isinstance(scalar, tuple) and scalar[0].shape == mean.shape


@pytest.mark.parametrize(("levels", "match"), [
    ([], "got an empty list"),
    ([0.5, 1.0], r"got \[1.0\] in \[0.5, 1.0\]"),
    ([0.0, 0.5], r"got \[0.0\]"),
    ([-0.1], r"got \[-0.1\]"),
    ([0.5, float("nan")], r"got \[nan\]"),
    ([[0.5, 0.9]], r"shape \(1, 2\)"),
    (np.array([[0.5]]), r"shape \(1, 1\)"),
    (["0.9"], "1-D list of numbers"),
    ([True], "1-D list of numbers"),
    ([True, 0.5], r"got \[1.0\]"),
    ([0.5, [0.9]], "1-D list of numbers"),
    ("0.9", "strictly between 0 and 1"),
    (1.5, "strictly between 0 and 1"),
    (None, "strictly between 0 and 1"),
])
@pytest.mark.parametrize("kind", ["sculpt", "isotonic"])
def test_bad_levels_raise(fitted, recalibrated, data, levels, match, kind):
    est = _estimators(fitted, recalibrated, 1)[kind]
    with pytest.raises(ValueError, match="strictly between 0 and 1") as info:
        est.predict_interval(data[0][:5], confidence_level=levels)
    assert info.match(match)


def test_metrics_keep_a_single_level(data):
    y = data[1]
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        coverage(y, y, np.ones_like(y), confidence_level=[0.5, 0.9])
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        interval_score(y, y, np.ones_like(y), confidence_level=[0.5, 0.9])
