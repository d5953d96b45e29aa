"""Every bad input gets an exception that names the problem and the fix (issue 7).

``CASES`` is the table of ``docs/reliability.md``: ``test_docs_table_matches_cases``
keeps the two identical, so every row of the documented table is a test here.
"""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import BayesianRidge
from sklearn.utils._param_validation import InvalidParameterError
from torch import nn

from sculpt_sklearn import MLP, SculptRegressor
from sculpt_sklearn.calibration import RecalibratedRegressor
from sculpt_sklearn.datasets import make_heteroscedastic

FAST = dict(max_epochs=3, random_state=0)
X, Y, _ = make_heteroscedastic(n_samples=60, random_state=0)
DOCS_TABLE = Path(__file__).resolve().parents[1] / "docs" / "reliability.md"


def fitted():
    return SculptRegressor(**FAST).fit(X, Y)


def warm_fitted():
    return SculptRegressor(warm_start=True, **FAST).fit(X, Y)


def fitted_on_frame():
    return SculptRegressor(**FAST).fit(pd.DataFrame(X, columns=list("abcd")), Y)


def with_value(a, index, value):
    a = np.array(a, dtype=float)
    a[index] = value
    return a


class RaisingNet(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.out = nn.Linear(n_features, 1)

    def forward(self, x):
        raise RuntimeError("boom")


class WrongShapeNet(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.out = nn.Linear(n_features, 3)

    def forward(self, x):
        return self.out(x)


class NoLinearNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 1, 1)

    def forward(self, x):
        return self.conv(x.unsqueeze(1)).mean(-1)


object_castable = X.astype(object)
object_strings = X.astype(object)
object_strings[0, 0] = "abc"
frame_with_text = pd.DataFrame({"a": X[:, 0], "b": ["x"] * len(X)})

# (id, action, exception type, message pattern)
CASES = [
    ("nan-in-X-with-own-module",
     lambda: SculptRegressor(MLP, **FAST).fit(with_value(X, (0, 0), np.nan), Y),
     ValueError, "holds NaN or infinite values: impute X.*Input X contains NaN"),
    ("inf-in-X-with-own-module",
     lambda: SculptRegressor(MLP, **FAST).fit(with_value(X, (0, 0), np.inf), Y),
     ValueError, "holds NaN or infinite values: impute X.*Input X contains infinity"),
    ("inf-in-X", lambda: SculptRegressor(**FAST).fit(with_value(X, (0, 0), np.inf), Y),
     ValueError, "Column 0 holds infinite values; replace them with NaN"),
    ("nan-in-y", lambda: SculptRegressor(**FAST).fit(X, with_value(Y, 0, np.nan)),
     ValueError, "holds NaN or infinite values.*Input y contains NaN"),
    ("inf-in-y", lambda: SculptRegressor(**FAST).fit(X, with_value(Y, 0, np.inf)),
     ValueError, "holds NaN or infinite values.*Input y contains infinity"),
    ("nan-in-X-at-predict-with-own-module",
     lambda: SculptRegressor(MLP, **FAST).fit(X, Y).predict(with_value(X, (0, 0), np.nan)),
     ValueError, "Input X contains NaN"),
    ("text-column-with-own-module", lambda: SculptRegressor(MLP, **FAST).fit(frame_with_text, Y),
     ValueError, "needs numeric X and y.*OneHotEncoder.*default module"),
    ("object-dtype-with-strings-with-own-module",
     lambda: SculptRegressor(MLP, **FAST).fit(object_strings, Y),
     ValueError, "needs numeric X and y.*could not convert string to float"),
    ("string-y", lambda: SculptRegressor(**FAST).fit(X, np.array(["a"] * len(X))),
     ValueError, "y must hold numbers.*encode a text target"),
    ("wrong-width-at-predict", lambda: fitted().predict(X[:, :3]),
     ValueError, "same columns as in fit.*X has 3 features, but SculptRegressor is expecting 4"),
    ("other-column-names-at-predict",
     lambda: fitted_on_frame().predict(pd.DataFrame(X, columns=list("wxyz"))),
     ValueError, "feature names should match"),
    ("other-column-order-at-predict",
     lambda: fitted_on_frame().predict(pd.DataFrame(X, columns=list("abcd"))[list("dcba")]),
     ValueError, "feature names should match"),
    ("empty-X", lambda: SculptRegressor(**FAST).fit(X[:0], Y[:0]),
     ValueError, "0 sample"),
    ("one-sample", lambda: SculptRegressor(**FAST).fit(X[:1], Y[:1]),
     ValueError, "at least 2 rows.*1 sample.*minimum of 2"),
    ("3-d-X", lambda: SculptRegressor(**FAST).fit(X.reshape(60, 2, 2), Y),
     ValueError, "X.reshape.*Found array with dim 3"),
    ("y-wrong-length", lambda: SculptRegressor(**FAST).fit(X, Y[:-1]),
     ValueError, "one row per sample.*inconsistent numbers of samples"),
    ("negative-sample-weight",
     lambda: SculptRegressor(**FAST).fit(X, Y, sample_weight=with_value(np.ones(60), 0, -1)),
     ValueError, "Negative values in data passed to `sample_weight`"),
    ("nan-sample-weight",
     lambda: SculptRegressor(**FAST).fit(X, Y, sample_weight=with_value(np.ones(60), 0, np.nan)),
     ValueError, "sample_weight contains NaN"),
    ("wrong-length-sample-weight",
     lambda: SculptRegressor(**FAST).fit(X, Y, sample_weight=np.ones(59)),
     ValueError, r"sample_weight.shape == \(59,\), expected \(60,\)"),
    ("all-zero-sample-weight",
     lambda: SculptRegressor(**FAST).fit(X, Y, sample_weight=np.zeros(60)),
     ValueError, "at least one non-zero"),
    ("unknown-distribution", lambda: SculptRegressor(distribution="weibull", **FAST).fit(X, Y),
     ValueError, "Unknown distribution 'weibull'; choose one of"),
    ("non-sculpt-distribution-class", lambda: SculptRegressor(distribution=int, **FAST).fit(X, Y),
     ValueError, "must be a sculpt distribution class"),
    ("unknown-loss", lambda: SculptRegressor(loss="mse", **FAST).fit(X, Y),
     ValueError, "'loss' parameter of SculptRegressor must be"),
    ("n-layers-below-1", lambda: SculptRegressor(n_layers=0, **FAST).fit(X, Y),
     ValueError, "'n_layers' parameter of SculptRegressor must be a str among {'auto'} or an int"),
    ("confidence-level-outside-0-1", lambda: fitted().predict_interval(X, confidence_level=1.2),
     ValueError, "strictly between 0 and 1"),
    ("confidence-levels-empty", lambda: fitted().predict_interval(X, confidence_level=[]),
     ValueError, "non-empty 1-D list"),
    ("x-val-without-y-val", lambda: SculptRegressor(**FAST).fit(X, Y, X_val=X[:20]),
     ValueError, "X_val was given but y_val was not"),
    ("x-val-wrong-width",
     lambda: SculptRegressor(**FAST).fit(X, Y, X_val=X[:20, :3], y_val=Y[:20]),
     ValueError, "In X_val"),
    ("non-positive-y-for-a-positive-family",
     lambda: SculptRegressor(distribution="lognormal", **FAST).fit(X, Y),
     ValueError, "is for positive targets"),
    ("module-forward-raises", lambda: SculptRegressor(RaisingNet, **FAST).fit(X, Y),
     ValueError, "forward failed.*RuntimeError: boom"),
    ("module-wrong-output-shape", lambda: SculptRegressor(WrongShapeNet, **FAST).fit(X, Y),
     ValueError, r"returned \(2, 3\) for 2 rows, but y has 1 output"),
    ("module-without-linear-layer", lambda: SculptRegressor(NoLinearNet, **FAST).fit(X, Y),
     ValueError, "No nn.Linear layer found.*layer="),
    ("typo-in-prefixed-parameter",
     lambda: SculptRegressor(MLP, module__hiden_layer_sizes=(3,), **FAST).fit(X, Y),
     ValueError, "Did you mean module__hidden_layer_sizes"),
    ("no-informative-column", lambda: SculptRegressor(**FAST).fit(np.ones((60, 3)), Y),
     ValueError, "No column of X varies"),
    ("sparse-X-with-default-model",
     lambda: SculptRegressor(**FAST).fit(scipy.sparse.csr_matrix(X), Y),
     TypeError, "does not take sparse X"),
    ("predict-before-fit", lambda: SculptRegressor().predict(X),
     NotFittedError, "not fitted yet.*Call 'fit'"),
    ("n-samples-in-sample-not-positive", lambda: fitted().sample(X, n_samples=0),
     ValueError, "n_samples must be a positive integer"),
    ("unknown-device", lambda: SculptRegressor(device="gpu", **FAST).fit(X, Y),
     InvalidParameterError, "'device' parameter.*'cpu', 'cuda'"),
    ("warm-start-with-another-structure",
     lambda: warm_fitted().set_params(distribution="laplace").fit(X, Y),
     ValueError, "distribution is now 'laplace'.*warm_start=False"),
    ("max-time-not-positive", lambda: SculptRegressor(max_time=0, **FAST).fit(X, Y),
     InvalidParameterError, "'max_time' parameter"),
    ("n-threads-zero", lambda: SculptRegressor(n_threads=0, **FAST).fit(X, Y),
     InvalidParameterError, "'n_threads' parameter"),
    ("return-risk-of-a-model-without-risk",
     lambda: RecalibratedRegressor(BayesianRidge(), random_state=0).fit(X, Y).predict(
         X, return_risk=True),
     TypeError, "return_risk=True asks for the recalibrated aleatoric std"),
]


@pytest.mark.parametrize(("action", "error", "match"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_raises_a_clear_error(action, error, match):
    with pytest.raises(error, match=match):
        action()


def test_object_dtype_that_can_be_cast_is_accepted():
    reg = SculptRegressor(**FAST).fit(object_castable, Y)
    np.testing.assert_allclose(reg.predict(object_castable), reg.predict(X), rtol=1e-6)


def test_one_sample_at_predict_time_is_fine():
    assert fitted().predict(X[:1]).shape == (1,)


def test_docs_table_matches_cases():
    text = DOCS_TABLE.read_text()
    documented = re.findall(r"^\| `([A-Za-z0-9-]+)` \|", text, flags=re.MULTILINE)
    assert documented == [c[0] for c in CASES]
