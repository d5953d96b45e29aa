"""
Each part of the uncertainty against the truth
==============================================

On synthetic data the truth is known: the mean ``f(x)`` and the noise's
standard deviation at every row. So each part that
:meth:`~sculpt_sklearn.SculptRegressor.predict_uncertainty` returns can be
checked against what it should be:

* the **aleatoric** std against the true noise std;
* the **epistemic** std against the mean's actual error ``|mean - f(x)|``;
* both on the training range and past it.

The data: three features uniform on ``[-2, 2]``, the mean
``sin(2 x0) + x1 / 2 + 0.3 x2**2`` and a noise std that grows from 0.1 to
0.6 with ``x0`` (the ``sine3`` family of
``benchmarks/uncertainty_decomposition.py``, which measures the same on seven
families).
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import torch

from sculpt_sklearn import SculptRegressor

torch.set_num_threads(1)
# SCULPT_EXAMPLES_FAST=1 (set by the test suite and the docs build) trains for fewer epochs.
FAST = os.environ.get("SCULPT_EXAMPLES_FAST") == "1"


def truth(X):
    mean = np.sin(2 * X[:, 0]) + 0.5 * X[:, 1] + 0.3 * X[:, 2] ** 2
    noise = 0.1 + 0.5 * (np.clip(X[:, 0], -2, 2) + 2) / 4
    return mean, noise


rng = np.random.default_rng(0)
X = rng.uniform(-2, 2, (3000, 3))
f, noise = truth(X)
y = f + noise * rng.standard_normal(len(X))
model = SculptRegressor(max_epochs=40 if FAST else "auto", random_state=0).fit(X, y)

# %%
# Test rows: 2,000 on the training range, and a line along ``x0`` from -8 to 8
# (the other features at 0), which leaves the range on both sides.
X_test = rng.uniform(-2, 2, (2000, 3))
f_test, noise_test = truth(X_test)
u = model.predict_uncertainty(X_test)
error = np.abs(u.mean - f_test)
print(f"predictive family: {model.distribution_}")
print(f"median aleatoric / true noise std: {np.median(u.aleatoric / noise_test):.3f}")
quiet = noise_test <= np.quantile(noise_test, 0.1)
print(f"  on the quietest tenth of the rows: {np.median(u.aleatoric[quiet] / noise_test[quiet]):.3f}")
print(f"RMS epistemic / RMS error of the mean: "
      f"{np.sqrt(np.mean(u.epistemic**2) / np.mean(error**2)):.2f}")

line = np.zeros((321, 3))
line[:, 0] = np.linspace(-8, 8, 321)
f_line, noise_line = truth(line)
v = model.predict_uncertainty(line)
inside = np.abs(line[:, 0]) <= 2
print(f"median epistemic past the range / on it: "
      f"{np.median(v.epistemic[np.abs(line[:, 0]) > 6]) / np.median(u.epistemic):.1f}x")

# %%
# Left: aleatoric against the true noise (the diagonal is right); on the
# quietest rows the model still reports more noise than there is, because the
# residuals it learns from hold its own error of the mean, which it cannot
# tell apart from noise. Middle: epistemic against the mean's actual error,
# ten bins by predicted epistemic (the RMS of each). Right: along the line, the
# epistemic part grows once it leaves the range (grey), with the distance.

fig, (a, b, c) = plt.subplots(1, 3, figsize=(12, 3.8))
a.scatter(noise_test, u.aleatoric, s=3, alpha=0.4)
top = noise_test.max() * 1.2
a.plot([0, top], [0, top], color="black", lw=1)
a.set_xlabel("true noise std")
a.set_ylabel("aleatoric std")
a.set_title("aleatoric vs the noise")

order = np.argsort(u.epistemic)
bins = np.array_split(order, 10)
predicted = [np.sqrt(np.mean(u.epistemic[i] ** 2)) for i in bins]
actual = [np.sqrt(np.mean(error[i] ** 2)) for i in bins]
b.plot(predicted, actual, "o-")
lim = max(max(predicted), max(actual)) * 1.1
b.plot([0, lim], [0, lim], color="black", lw=1)
b.set_xlabel("epistemic std (RMS per bin)")
b.set_ylabel("|mean - f| (RMS per bin)")
b.set_title("epistemic vs the mean's error")

for lo, hi in [(-8, -2), (2, 8)]:
    c.axvspan(lo, hi, color="0.92", lw=0)
c.semilogy(line[:, 0], v.epistemic, label="epistemic std")
c.semilogy(line[:, 0], np.abs(v.mean - f_line), ".", ms=2, label="|mean - f|")
c.semilogy(line[:, 0], v.aleatoric, "--", label="aleatoric std")
c.set_xlabel("x0 (x1 = x2 = 0)")
c.set_title("along a line out of the range")
c.legend(fontsize="small")
fig.tight_layout()
plt.show()
