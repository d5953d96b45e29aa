"""The UCI benchmark scores the predictive distribution the estimator itself reports."""

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = (ROOT / ".." / "shared" / "datasets" / "uci").resolve()

pytestmark = pytest.mark.skipif(not (DATA_DIR / "yacht").is_dir(),
                                reason="needs ../shared/datasets/uci beside the checkout")


def _benchmark_module(name):
    """Import ``benchmarks/<name>.py`` (and the modules beside it that it imports)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        yield importlib.import_module(name)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


@pytest.fixture(scope="module")
def uci():
    yield from _benchmark_module("uci")


def test_nll_and_coverage_use_the_total_std(uci):
    # The default model is an ensemble: its predictive std is the total (risk and
    # members' spread), and the benchmark must score that, not the risk alone.
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sculpt_sklearn import SculptRegressor

    params = {"max_epochs": 4, "random_state": 0}
    record = uci.run_sculpt_split(DATA_DIR, "yacht", 0, "t", params, False, None, 0)
    X_train, y_train, X_test, y_test = uci.load_split(DATA_DIR, "yacht", 0)
    pipe = make_pipeline(StandardScaler(), SculptRegressor(**params)).fit(X_train, y_train)
    mean, risk = pipe.predict(X_test, return_risk=True)
    _, total = pipe.predict(X_test, return_std=True)
    assert np.all(total > risk)  # an ensemble: the epistemic part is not 0
    # The default's family: Student-t with 5 degrees of freedom and std `total`
    # (scale total * sqrt(3 / 5)), scored as that, not as a Normal.
    assert pipe[-1].distribution_.name == "studentt"
    predictive = stats.t(df=5, loc=mean, scale=total * np.sqrt(3 / 5))
    expected = -predictive.logpdf(y_test).mean()
    assert record["nll"] == pytest.approx(expected, rel=1e-9)
    assert record["nll"] != pytest.approx(-stats.norm.logpdf(y_test, mean, total).mean())
    lo, hi = predictive.interval(0.9)
    assert record["coverage90"] == pytest.approx(np.mean((y_test >= lo) & (y_test <= hi)))


def test_split_selection_extends_an_earlier_run(uci):
    # --splits 3 then --first-split 3 together run every split once.
    assert list(uci.split_ids(20, 3)) == [0, 1, 2]
    assert list(uci.split_ids(20, None, 3)) == list(range(3, 20))
    assert list(uci.split_ids(5, 20, 3)) == [3, 4]
    with pytest.raises(SystemExit, match="--first-split"):
        uci.split_ids(20, None, -1)


@pytest.fixture(scope="module")
def holdout_study():
    yield from _benchmark_module("holdout_study")


def test_pooled_fits_are_the_moments_of_the_equal_mixture(holdout_study):
    # N(0, 1) and N(2, 3): mixture mean 1, variance (1 + 9) / 2 + 1 (spread of means) = 6.
    mean, std = holdout_study.pooled([(np.array([0.0]), np.array([1.0])),
                                      (np.array([2.0]), np.array([3.0]))])
    np.testing.assert_allclose(mean, [1.0])
    np.testing.assert_allclose(std, [np.sqrt(6.0)])
    # Against a large sample of the mixture itself.
    rng = np.random.default_rng(0)
    draws = np.concatenate([rng.normal(0, 1, 200_000), rng.normal(2, 3, 200_000)])
    np.testing.assert_allclose([draws.mean(), draws.std()], [1.0, np.sqrt(6.0)], atol=0.02)


def test_two_factors_recover_the_scales_that_generated_the_rows(holdout_study):
    from sklearn.utils import Bunch

    rng = np.random.default_rng(0)
    n = 20_000
    aleatoric = rng.uniform(0.5, 2.0, n)
    epistemic = rng.uniform(0.5, 2.0, n)
    y = rng.normal(0.0, np.sqrt((1.5 * aleatoric) ** 2 + (0.5 * epistemic) ** 2))
    unc = Bunch(mean=np.zeros(n), aleatoric=aleatoric, epistemic=epistemic)
    a, e = holdout_study.two_factors(y, unc)
    assert a == pytest.approx(1.5, rel=0.05)
    assert e == pytest.approx(0.5, rel=0.15)
    # The NLL it minimises (the benchmark's normal_metrics) against scipy.stats.
    std = np.sqrt(aleatoric**2 + epistemic**2)
    assert holdout_study.normal_metrics(y, unc.mean, std)["nll"] == pytest.approx(
        -stats.norm(0.0, std).logpdf(y).mean())


@pytest.fixture(scope="module")
def step_speed():
    yield from _benchmark_module("step_speed")


def test_step_speed_times_each_version_and_restores_the_dropout_layer(step_speed):
    import torch

    import sculpt_sklearn.models as models
    from sculpt_sklearn._dropout import use_bit_dropout

    X = np.random.default_rng(0).normal(size=(40, 3))
    y = X[:, 0] + 0.1 * np.random.default_rng(1).normal(size=40)
    seen = []
    keep = models.TabMModule.__init__

    def spy(self, *args, **kwargs):  # which dropout layers each version builds
        keep(self, *args, **kwargs)
        seen.append({type(m).__name__ for m in self.modules() if isinstance(m, torch.nn.Dropout)})

    models.TabMModule.__init__ = spy
    try:
        for config in step_speed.CONFIGS:
            assert step_speed.fit_cpu_seconds(config, X, y, epochs=1, seed=0) > 0
    finally:
        models.TabMModule.__init__ = keep
    # Two networks per fit on 40 rows; the first version keeps torch's nn.Dropout.
    assert seen == [{"Dropout"}] * 2 + [{"BitDropout"}] * 4
    assert models.use_bit_dropout is use_bit_dropout


@pytest.fixture(scope="module")
def weight_average_study():
    yield from _benchmark_module("weight_average_study")


def test_weight_average_moves_training_networks_and_stands_in_at_epoch_end(
    weight_average_study,
):
    """The study's averages: an EMA of each training network, swapped in for validation."""
    import torch

    from sculpt_sklearn import SculptRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3)).astype(np.float32)
    y = X[:, 0] + 0.1 * rng.normal(size=64)
    net = SculptRegressor(n_networks=2, max_epochs=1, random_state=0).fit(X, y).net_
    callback = weight_average_study.weight_average(horizon=2.0)
    callback.on_train_begin(net, X=X)
    # 64 rows in batches of the default's size: the rate is 1 / (2 epochs of steps).
    assert callback.rate == pytest.approx(1 / (2 * -(-64 // net.batch_size)))
    start = [[p.detach().clone() for p in part.parameters()] for part in net.module_.parts]
    with torch.no_grad():
        for part in net.module_.parts:
            for p in part.parameters():
                p.add_(1.0)
    net.training_networks = [1]  # network 0 has stopped: its average must not move
    callback.on_batch_end(net, training=True)
    for a, s in zip(callback.averages[0], start[0], strict=True):
        torch.testing.assert_close(a, s)
    for a, s in zip(callback.averages[1], start[1], strict=True):
        torch.testing.assert_close(a, s + callback.rate)
    callback.on_batch_end(net, training=False)  # validation batches do not count
    for a, s in zip(callback.averages[1], start[1], strict=True):
        torch.testing.assert_close(a, s + callback.rate)
    callback.on_epoch_end(net)  # the averages stand in for validation and the best copy
    for p, s in zip(net.module_.parts[1].parameters(), start[1], strict=True):
        torch.testing.assert_close(p.detach(), s + callback.rate)
    callback.on_epoch_begin(net)  # training goes on from the raw weights
    for p, s in zip(net.module_.parts[1].parameters(), start[1], strict=True):
        torch.testing.assert_close(p.detach(), s + 1.0)
    net.training_networks = None


@pytest.fixture(scope="module")
def pool_variance_study():
    yield from _benchmark_module("pool_variance_study")


def test_pool_parts_rebuild_the_estimators_total_by_the_law_of_total_variance(
    pool_variance_study,
):
    """Within variance plus the networks' disagreement, scaled, is predict's total std."""
    from sculpt_sklearn import SculptRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3)).astype(np.float32)
    y = 3.0 * X[:, 0] + 5.0 + rng.normal(size=80)
    # The study's parts are the plain law of total variance over the members.
    reg = SculptRegressor(n_networks=2, max_epochs=3, member_spread_correction=False,
                          random_state=0).fit(X, y)
    parts = pool_variance_study.pooled_parts(reg, X)
    unc = reg.predict_uncertainty(X)
    c = reg.risk_scale_[0]
    np.testing.assert_allclose(parts["mean"], unc.mean, rtol=1e-5)
    np.testing.assert_allclose(c * np.sqrt(parts["A"]), unc.aleatoric, rtol=1e-4)
    np.testing.assert_allclose(c * np.sqrt(parts["W"] + parts["D"]), unc.total, rtol=1e-4)
    assert np.all(parts["D"] > 0)  # two networks with their own weights disagree


@pytest.fixture(scope="module")
def defaults_speed():
    yield from _benchmark_module("_defaults_speed")


def test_defaults_speed_scores_each_model_under_its_own_family(defaults_speed):
    """The Student-t default is scored by its t density, the MLP by its Normal one."""
    from sculpt_sklearn import MLP, SculptRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = X[:, 0] + 0.3 * rng.standard_t(4, size=120)
    data = {"X_train": X[:80], "y_train": y[:80], "X_test": X[80:], "y_test": y[80:]}
    for params, df in [({}, 5), ({"module": MLP}, None)]:
        record = defaults_speed._fit_sculpt(data, 0, max_epochs=3, **params)
        reg = SculptRegressor(random_state=0, max_epochs=3, **params).fit(X[:80], y[:80])
        mean, std = reg.predict(X[80:], return_std=True)
        if df is None:
            expected = stats.norm(mean, std)
        else:  # std = scale * sqrt(df / (df - 2))
            expected = stats.t(df=df, loc=mean, scale=std * np.sqrt((df - 2) / df))
        assert record["nll"] == pytest.approx(-expected.logpdf(y[80:]).mean(), rel=1e-9)
        lo, hi = expected.interval(0.9)
        assert record["coverage90"] == pytest.approx(np.mean((y[80:] >= lo) & (y[80:] <= hi)))
