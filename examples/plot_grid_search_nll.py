"""
Model selection on the negative log-likelihood
==============================================

``GridSearchCV`` tunes :class:`~sculpt_sklearn.SculptRegressor` like any
scikit-learn regressor. Its ``score`` is R², which only judges the mean; to
choose a model for its *risk* as well, score with the negated NLL:
:data:`sculpt_sklearn.metrics.neg_nll_scorer` calls
``predict(X, return_std=True)`` and evaluates the density of the estimator's
own family (Normal, Laplace, ...), also when the estimator is the last step
of a ``Pipeline``. Higher is better, as for every scikit-learn scorer.

The grid mixes a network parameter (``module__hidden_layer_sizes``, routed to
the built-in :class:`~sculpt_sklearn.MLP`, named here with
``SculptRegressor(MLP)``) and the output family (``distribution``), both
addressed through the pipeline step name ``reg``. The plain MLP does not scale
its inputs (the default model does), so a ``StandardScaler`` goes in front.
"""

import os

import matplotlib.pyplot as plt
import pandas as pd
import torch
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sculpt_sklearn import MLP, SculptRegressor
from sculpt_sklearn.datasets import make_heteroscedastic
from sculpt_sklearn.metrics import neg_nll_scorer

torch.set_num_threads(1)
# SCULPT_EXAMPLES_FAST=1 (set by the test suite and the docs build) trains for fewer epochs.
FAST = os.environ.get("SCULPT_EXAMPLES_FAST") == "1"

# %%
# Heteroscedastic data with Laplace (heavier than Gaussian) noise.
X, y, _ = make_heteroscedastic(
    n_samples=1200 if FAST else 2000, distribution="laplace", random_state=0
)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)

pipe = Pipeline([
    ("scale", StandardScaler()),
    ("reg", SculptRegressor(MLP, batch_size=128, max_epochs=25 if FAST else 100,
                            random_state=0)),
])
param_grid = {
    "reg__module__hidden_layer_sizes": [(32,), (64, 64)],
    "reg__distribution": ["normal", "laplace"],
}

# %%
# Score every candidate on both R² and the negated NLL; refit the one with the
# best NLL.
search = GridSearchCV(
    pipe,
    param_grid,
    scoring={"neg_nll": neg_nll_scorer, "r2": "r2"},
    refit="neg_nll",
    cv=3,
)
search.fit(X_train, y_train)

results = pd.DataFrame(search.cv_results_)
table = results[[
    "param_reg__module__hidden_layer_sizes",
    "param_reg__distribution",
    "mean_test_neg_nll",
    "mean_test_r2",
]].rename(columns=lambda c: c.replace("param_reg__", "").replace("module__", ""))
print(table.round(3).to_string(index=False))
print("best parameters:", search.best_params_)

# %%
# The refitted best pipeline, scored on the held-out rows.
print(f"test negative NLL   {neg_nll_scorer(search.best_estimator_, X_test, y_test):.3f}")
print(f"test R^2            {search.best_estimator_.score(X_test, y_test):.3f}")

# %%
# The cross-validated NLL of each candidate.
labels = [
    f"{d}\n{h}" for h, d in zip(
        table["hidden_layer_sizes"], table["distribution"], strict=True
    )
]
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.bar(labels, -results["mean_test_neg_nll"], yerr=results["std_test_neg_nll"],
       color="tab:blue", alpha=0.7)
ax.set_ylabel("cross-validated NLL (lower is better)")
fig.tight_layout()
plt.show()
