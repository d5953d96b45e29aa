"""max_time: a fit that runs out of its time budget stops, warns and keeps its best weights."""

import time
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback

from sculpt_sklearn import MLP, SculptRegressor
from sculpt_sklearn.datasets import make_heteroscedastic

X, Y, _ = make_heteroscedastic(n_samples=300, random_state=0)


class SlowBatches(Callback):
    """Make every training batch take at least ``seconds``: time passes as the test says."""

    def __init__(self, seconds):
        self.seconds = seconds

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            time.sleep(self.seconds)


@pytest.mark.parametrize("module", [None, MLP])
def test_a_fit_that_runs_out_of_time_stops_warns_and_keeps_its_best_epoch(module):
    # 270 training rows in batches of 90: 3 batches of >= 0.02 s an epoch, so 0.5 s of
    # training ends during epoch 9 at the latest, far from the 200 epochs asked for.
    reg = SculptRegressor(module, max_epochs=200, batch_size=90, n_iter_no_change=200,
                          max_time=0.5, callbacks=[SlowBatches(0.02)], random_state=0)
    with pytest.warns(ConvergenceWarning, match="max_time=0.5"):
        reg.fit(X, Y)
    assert 1 <= reg.n_iter_ <= 9
    # The weights kept are the best: of the net, or of each network of the pool.
    columns = ["valid_loss"] if reg.n_networks_ == 1 else [
        f"valid_loss_{p}" for p in range(reg.n_networks_)]
    best = [int(np.argmin([row.get(c, np.inf) for row in reg.history_])) + 1 for c in columns]
    assert reg.best_epoch_ == max(best)
    assert np.isfinite(reg.predict(X, return_std=True)).all()


def test_a_budget_that_is_not_reached_changes_nothing():
    fast = {"max_epochs": 4, "random_state": 0}
    plain = SculptRegressor(**fast).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        budgeted = SculptRegressor(max_time=3600.0, **fast).fit(X, Y)
    np.testing.assert_array_equal(budgeted.predict(X), plain.predict(X))


def test_running_out_of_time_is_not_reported_as_a_user_interruption():
    reg = SculptRegressor(max_epochs=50, early_stopping=False, max_time=0.2,
                          callbacks=[SlowBatches(0.05)], random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reg.fit(X, Y)
    kinds = {type(w.message) for w in caught}
    assert ConvergenceWarning in kinds and RuntimeWarning not in kinds
    assert reg.best_epoch_ == reg.n_iter_  # without early stopping: the last weights


def test_the_budget_counts_per_call_and_can_change_between_warm_starts():
    reg = SculptRegressor(max_epochs=3, warm_start=True, max_time=3600.0, random_state=0)
    reg.fit(X, Y)
    reg.set_params(max_time=None, max_epochs=2)
    reg.fit(X, Y)
    assert reg.n_iter_ == 5 and "time_budget" not in dict(reg.net_.callbacks_)


@pytest.mark.parametrize("bad", [0, -1.0, "1s"])
def test_a_bad_budget_is_refused(bad):
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="max_time"):
        SculptRegressor(max_time=bad).fit(X, Y)
