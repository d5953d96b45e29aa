"""
Quick start: a mean and a risk for every row
============================================

Fit :class:`~sculpt_sklearn.SculptRegressor` on built-in data whose label
noise changes from row to row, then check both the predictions and the
predicted risk against the true noise level, which the data set knows.

The default model is an ensemble (TabM) that scales its own inputs, so the
raw array goes in as it is. Its uncertainty comes in two parts:

* the **aleatoric** std (the *risk*, ``predict(X, return_risk=True)``): the
  label's own noise, which more data does not remove;
* the **epistemic** std: how much the ensemble's members disagree about the
  mean, which is small where the training rows are dense.

``predict_uncertainty`` returns both and their **total**
(``total**2 == aleatoric**2 + epistemic**2``), which intervals and the NLL use.
The predictive distribution of the default model is a Student-t (5 degrees of
freedom) with that mean and total std (``distribution="auto"``): its tails are
heavier than a Normal's, as the errors on real tabular data are. This data's
noise is Gaussian, so a Normal fits it a little better (``distribution="normal"``;
0.013 nats on 20,000 rows of it in the project's speed benchmark).
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.stats import spearmanr

from sculpt_sklearn import SculptRegressor
from sculpt_sklearn.datasets import make_heteroscedastic

# One torch thread: small networks train fastest that way on a few cores.
torch.set_num_threads(1)
# SCULPT_EXAMPLES_FAST=1 (set by the test suite) trains for fewer epochs.
FAST = os.environ.get("SCULPT_EXAMPLES_FAST") == "1"

X_train, y_train, _ = make_heteroscedastic(n_samples=3000, noise=1.0, random_state=0)
X_test, y_test, true_std = make_heteroscedastic(n_samples=2000, noise=1.0, random_state=1)

model = SculptRegressor(max_epochs=8 if FAST else "auto", random_state=0)
model.fit(X_train, y_train)

mean, risk = model.predict(X_test, return_risk=True)
parts = model.predict_uncertainty(X_test)
lower, upper = model.predict_interval(X_test, confidence_level=0.9)

rmse = np.sqrt(np.mean((mean - y_test) ** 2))
nll = -np.mean(model.predict_dist(X_test).logpdf(y_test))
coverage = np.mean((y_test >= lower) & (y_test <= upper))
rho = spearmanr(risk, true_std).statistic
ideal_rmse = np.sqrt(np.mean(true_std**2))

print(f"epochs trained                      {model.n_iter_}")
print(f"test RMSE                           {rmse:.3f}  (noise floor {ideal_rmse:.3f})")
print(f"{f'test NLL ({model.distribution_.__name__})':<36}{nll:.3f}")
print(f"90% interval coverage               {coverage:.1%}")
print(f"Spearman(risk, true noise std)      {rho:.3f}")
print(f"median risk / true noise std        {np.median(risk / true_std):.3f}")
print(f"median epistemic / aleatoric std    {np.median(parts.epistemic / parts.aleatoric):.3f}")

# %%
# The predicted risk against the true noise level
# ------------------------------------------------
# Each dot is a test row. On the diagonal, the predicted aleatoric std equals
# the noise the data were made with. On the quietest rows the risk is too
# high: it is the spread of the label around *this model's* mean, so the
# mean's own error there (the RMSE is above the noise floor) counts in it.
# The epistemic part (right) is a small
# fraction of the risk here: these test rows come from the same distribution
# as the 3,000 training rows, so the members agree.

fig, axes = plt.subplots(1, 2, figsize=(10, 4))
limit = [0, float(true_std.max()) * 1.05]
axes[0].scatter(true_std, risk, s=3, alpha=0.4, color="tab:blue")
axes[0].plot(limit, limit, color="black", lw=1, label="predicted = true")
axes[0].set_xlabel("true noise std")
axes[0].set_ylabel("predicted risk (aleatoric std)")
axes[0].set_xlim(limit)
axes[0].set_ylim(bottom=0)
axes[0].legend()
axes[1].hist(parts.epistemic / parts.aleatoric, bins=40, color="tab:orange")
axes[1].set_xlabel("epistemic std / aleatoric std, per test row")
axes[1].set_ylabel("rows")
axes[1].set_xlim(left=0)
fig.tight_layout()
plt.show()
