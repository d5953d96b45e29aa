"""
Judging predicted uncertainty: metrics and plots
================================================

A model that predicts a risk (a standard deviation for every row) is judged on
more than its mean: are its intervals as wide as they claim to be
(calibration), are they narrow (sharpness), and do proper scores such as the
negative log-likelihood and the CRPS reward it? This example fits
:class:`~sculpt_sklearn.SculptRegressor` in a ``Pipeline`` on data whose noise
changes from row to row, prints every metric of :mod:`sculpt_sklearn.metrics`
and draws the three Display objects of :mod:`sculpt_sklearn.plotting`. For
contrast, the same model with its risk halved plays an over-confident one.
"""

import os

import matplotlib

matplotlib.use("Agg")  # draw off-screen: the figures are saved as PNG files
import matplotlib.pyplot as plt
import torch
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sculpt_sklearn import SculptRegressor
from sculpt_sklearn.datasets import make_heteroscedastic
from sculpt_sklearn.metrics import evaluate_uncertainty, uncertainty_metrics
from sculpt_sklearn.plotting import IntervalDisplay, ReliabilityDisplay, RiskErrorDisplay

# One torch thread: small networks train fastest that way on a few cores.
torch.set_num_threads(1)
# SCULPT_EXAMPLES_FAST=1 (set by the test suite) trains for fewer epochs.
FAST = os.environ.get("SCULPT_EXAMPLES_FAST") == "1"

X_train, y_train, _ = make_heteroscedastic(n_samples=3000, random_state=0)
X_test, y_test, true_std = make_heteroscedastic(n_samples=2000, random_state=1)

model = make_pipeline(
    StandardScaler(),
    SculptRegressor(loss="nll", max_epochs=10 if FAST else 300, random_state=0),
)
model.fit(X_train, y_train)

# %%
# The metric table
# ----------------
# ``evaluate_uncertainty`` predicts ``(mean, std)`` and scores them under the
# model's own family (``distribution_`` of the last step: Student-t for the
# default model). The same metrics on the over-confident copy, under the same
# family, show what each one sees; the row "oracle" scores the true noise
# level under the true (Gaussian) family, the best any model can do here.
scores = {"SculptRegressor": evaluate_uncertainty(model, X_test, y_test)}
mean, std = model.predict(X_test, return_std=True)
family = model[-1].distribution_
scores["risk halved"] = uncertainty_metrics(y_test, mean, 0.5 * std, distribution=family)
scores["oracle std"] = uncertainty_metrics(y_test, mean, true_std, distribution="normal")

names = ["nll", "crps", "coverage", "interval_width", "interval_score",
         "calibration_error", "miscalibration_area", "sharpness"]
print(f"{'metric (90% intervals)':<22}" + "".join(f"{k:>18}" for k in scores))
for name in names:
    print(f"{name:<22}" + "".join(f"{s[name]:>18.3f}" for s in scores.values()))
print(f"{'r2 (mean only)':<22}{scores['SculptRegressor']['r2']:>18.3f}")

# %%
# Reliability diagram
# -------------------
# Expected against observed coverage of central intervals at every level. A
# calibrated model follows the diagonal; the over-confident copy falls below.
fig, ax = plt.subplots(figsize=(5, 5))
ReliabilityDisplay.from_estimator(model, X_test, y_test, ax=ax)
ReliabilityDisplay.from_predictions(y_test, mean, 0.5 * std, distribution=family,
                                    name="risk halved", ax=ax, ref_line=False)
fig.savefig("reliability.png", dpi=100, bbox_inches="tight")

# %%
# Predicted risk against observed error
# -------------------------------------
# Rows binned by predicted standard deviation: where the model says "noisy",
# the residuals should be larger by as much.
fig, ax = plt.subplots(figsize=(5, 5))
RiskErrorDisplay.from_estimator(model, X_test, y_test, n_bins=10, ax=ax)
RiskErrorDisplay.from_predictions(y_test, mean, 0.5 * std, n_bins=10, name="risk halved",
                                  ax=ax, ref_line=False)
fig.savefig("risk_vs_error.png", dpi=100, bbox_inches="tight")

# %%
# Prediction intervals
# --------------------
# 90% intervals of 150 test rows, ordered by predicted mean, with the labels.
fig, ax = plt.subplots(figsize=(8, 4))
IntervalDisplay.from_estimator(model, X_test, y_test, n_max=150, ax=ax)
fig.savefig("intervals.png", dpi=100, bbox_inches="tight")
