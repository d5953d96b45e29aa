"""
Aleatoric and epistemic uncertainty, away from the data
=======================================================

The default model of :class:`~sculpt_sklearn.SculptRegressor` is an ensemble
(TabM): its members share most weights but each predicts its own mean and
its own noise level. :meth:`~sculpt_sklearn.SculptRegressor.predict_uncertainty`
splits the predictive standard deviation in two:

* **aleatoric**: the members' average noise level less their spread, the
  label's own spread (``predict(X, return_risk=True)`` returns it as the
  *risk*);
* **epistemic**: how much the members' means disagree, which is what the
  model does not know, and, outside the range of the training rows, a part
  that grows with the distance (``extrapolation_uncertainty``);

and their **total**, ``total**2 == aleatoric**2 + epistemic**2``, which
``predict(X, return_std=True)``, intervals and the NLL use.

Here the training rows cover two intervals of a 1-D input, with a gap
between them, and we predict on a grid that also runs past both ends.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import torch

from sculpt_sklearn import SculptRegressor

torch.set_num_threads(1)
# SCULPT_EXAMPLES_FAST=1 (set by the test suite and the docs build) trains for fewer epochs.
FAST = os.environ.get("SCULPT_EXAMPLES_FAST") == "1"

# %%
# Data: 600 rows on [-3, -0.8] and [0.8, 3]; the noise grows with ``|x|``.
rng = np.random.default_rng(0)
n = 600
x = np.concatenate([rng.uniform(-3, -0.8, n // 2), rng.uniform(0.8, 3, n // 2)])
noise_std = 0.1 + 0.15 * np.abs(x)
y = np.sin(1.5 * x) + 0.3 * x + noise_std * rng.standard_normal(n)

model = SculptRegressor(max_epochs=30 if FAST else "auto", random_state=0)
model.fit(x.reshape(-1, 1), y)

grid = np.linspace(-6, 6, 481)
u = model.predict_uncertainty(grid.reshape(-1, 1))

# %%
# The epistemic part, inside the data and away from it.
regions = {
    "training rows": ((grid >= -3) & (grid <= -0.8)) | ((grid >= 0.8) & (grid <= 3)),
    "the gap (-0.8, 0.8)": np.abs(grid) < 0.8,
    "past the ends (|x| > 3)": np.abs(grid) > 3,
}
print(f"{'region':26} {'median epistemic':>17} {'median aleatoric':>17}")
for name, rows in regions.items():
    print(f"{name:26} {np.median(u.epistemic[rows]):17.3f} {np.median(u.aleatoric[rows]):17.3f}")

# %%
# Mean with two bands of two standard deviations: the aleatoric one (blue)
# and the total one (orange, visible where it is wider). The lower panel
# shows the epistemic standard deviation on its own, with the aleatoric one
# for scale.
#
# What the picture shows, honestly:
#
# * the epistemic part is smallest among the training rows and several
#   times larger in the gap and past both ends, as it should be;
# * in the gap it is the members' disagreement alone: the gap lies inside the
#   range of ``x``, and the members agree more than a Gaussian process would
#   about inputs they have never seen, so it stays below the aleatoric part;
# * past the ends it grows linearly with the distance beyond the range: the
#   extrapolation prior adds ``extrapolation_uncertainty`` (0.25) standard
#   deviations of ``y`` per robust standard deviation of ``x`` beyond it, since
#   nothing in the data tells the model what happens there. It is a prior, not
#   a measurement: use it to tell rows far from the data apart, not as a
#   calibrated error bar;
# * at the edges of the training range (``x = -3`` and ``3``) every curve
#   steps: the input encoding maps each column's quantiles to a standard
#   normal, which puts the most extreme training value at about ``±5.2``
#   while its nearest neighbour lands near ``±3``.

fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True,
                                  gridspec_kw={"height_ratios": [2, 1]})
for lo, hi in [(-6, -3), (-0.8, 0.8), (3, 6)]:
    for ax in (top, bottom):
        ax.axvspan(lo, hi, color="0.92", lw=0)
top.fill_between(grid, u.mean - 2 * u.total, u.mean + 2 * u.total,
                 color="tab:orange", label="mean ± 2 total std")
top.fill_between(grid, u.mean - 2 * u.aleatoric, u.mean + 2 * u.aleatoric,
                 color="lightsteelblue", label="mean ± 2 aleatoric std")
top.plot(grid, u.mean, color="tab:blue", lw=1.5, label="predicted mean")
top.scatter(x, y, s=4, color="black", alpha=0.5, label="training rows")
top.set_ylabel("y")
top.legend(loc="upper left", fontsize="small")
bottom.plot(grid, u.epistemic, color="tab:orange", label="epistemic std")
bottom.plot(grid, u.aleatoric, color="tab:blue", ls="--", label="aleatoric std")
bottom.set_ylim(bottom=0)
bottom.set_xlabel("x (grey: no training rows)")
bottom.set_ylabel("std")
bottom.legend(loc="upper center", fontsize="small")
fig.tight_layout()
plt.show()
