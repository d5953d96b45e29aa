"""
Quick start: a mean and a risk for every row
============================================

Fit :class:`~sculpt_sklearn.SculptRegressor` in a scikit-learn ``Pipeline`` on
built-in data whose label noise changes from row to row, then check both the
predictions and the predicted risk against the true noise level, which the
data set knows.
"""

import os

import numpy as np
import torch
from scipy.stats import spearmanr
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sculpt_sklearn import SculptRegressor
from sculpt_sklearn.datasets import make_heteroscedastic

# One torch thread: small networks train fastest that way on a few cores.
torch.set_num_threads(1)
# SCULPT_EXAMPLES_FAST=1 (set by the test suite) trains for fewer epochs.
FAST = os.environ.get("SCULPT_EXAMPLES_FAST") == "1"

X_train, y_train, _ = make_heteroscedastic(n_samples=3000, noise=1.0, random_state=0)
X_test, y_test, true_std = make_heteroscedastic(n_samples=2000, noise=1.0, random_state=1)

model = make_pipeline(
    StandardScaler(),
    SculptRegressor(max_epochs=30 if FAST else 300, random_state=0),
)
model.fit(X_train, y_train)

mean, risk = model.predict(X_test, return_risk=True)
lower, upper = model[-1].predict_interval(model[0].transform(X_test), confidence_level=0.9)

rmse = np.sqrt(np.mean((mean - y_test) ** 2))
nll = -np.mean(model[-1].predict_dist(model[0].transform(X_test)).logpdf(y_test))
coverage = np.mean((y_test >= lower) & (y_test <= upper))
rho = spearmanr(risk, true_std).statistic
ideal_rmse = np.sqrt(np.mean(true_std**2))

print(f"epochs trained                      {model[-1].n_iter_}")
print(f"test RMSE                           {rmse:.3f}  (noise floor {ideal_rmse:.3f})")
print(f"test NLL (Gaussian)                 {nll:.3f}")
print(f"90% interval coverage               {coverage:.1%}")
print(f"Spearman(risk, true noise std)      {rho:.3f}")
print(f"median risk / true noise std        {np.median(risk / true_std):.3f}")
