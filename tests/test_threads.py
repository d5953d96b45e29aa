"""n_threads: torch's threads for one call, put back afterwards; joblib workers get their share."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from sculpt_sklearn import SculptRegressor
from sculpt_sklearn._threads import available_cores
from sculpt_sklearn.datasets import make_heteroscedastic

X, Y, _ = make_heteroscedastic(n_samples=200, random_state=0)


class RecordThreads(Callback):
    def __init__(self):
        self.seen = []

    def on_epoch_begin(self, net, **kwargs):
        self.seen.append(torch.get_num_threads())


@pytest.mark.parametrize("n_threads", [1, 2, -1])
def test_a_fit_runs_with_n_threads_and_puts_torchs_number_back(n_threads):
    before = torch.get_num_threads()
    recorder = RecordThreads()
    reg = SculptRegressor(max_epochs=2, n_threads=n_threads, callbacks=[recorder],
                          random_state=0).fit(X, Y)
    expected = available_cores() if n_threads == -1 else n_threads
    assert recorder.seen == [expected, expected] and reg.n_threads_ == expected
    assert torch.get_num_threads() == before
    reg.predict(X)
    assert torch.get_num_threads() == before


def test_threads_do_not_change_the_fit_beyond_rounding():
    one = SculptRegressor(max_epochs=3, n_threads=1, random_state=0).fit(X, Y)
    two = SculptRegressor(max_epochs=3, n_threads=2, random_state=0).fit(X, Y)
    np.testing.assert_allclose(two.predict(X), one.predict(X), rtol=1e-4, atol=1e-5)


def test_none_keeps_torchs_own_number():
    torch_default = torch.get_num_threads()
    reg = SculptRegressor(max_epochs=1, random_state=0).fit(X, Y)
    assert reg.n_threads_ == torch_default


@pytest.mark.parametrize("bad", [0, -2, 1.5])
def test_a_bad_thread_count_is_refused(bad):
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="n_threads"):
        SculptRegressor(n_threads=bad).fit(X, Y)


def test_parallel_cross_validation_workers_get_their_share_of_the_cores():
    # joblib's worker processes limit their OpenMP threads to their share of the cores,
    # and n_threads=None follows torch's number there: no oversubscription.
    code = textwrap.dedent("""
        import json
        from sklearn.model_selection import cross_validate
        from sculpt_sklearn import SculptRegressor
        from sculpt_sklearn.datasets import make_heteroscedastic
        X, y, _ = make_heteroscedastic(n_samples=120, random_state=0)
        out = cross_validate(SculptRegressor(max_epochs=1, random_state=0), X, y, cv=2,
                             n_jobs=2, return_estimator=True)
        print(json.dumps([e.n_threads_ for e in out["estimator"]]))
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=240, check=True)
    workers = json.loads(result.stdout.strip().splitlines()[-1])
    share = max(1, (os.cpu_count() or 1) // 2)
    assert len(workers) == 2 and all(n <= share for n in workers)
