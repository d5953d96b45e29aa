"""
Conformal intervals with MAPIE
==============================

The intervals of :meth:`~sculpt_sklearn.SculptRegressor.predict_interval`
hold their stated share of new labels only if the predicted distribution is
right. Split conformal prediction gives a finite-sample guarantee instead:
with rows the model did not train on (the *conformalize* set), MAPIE rescales
the intervals so that, on average over new rows exchangeable with those, a
share of at least ``confidence_level`` is covered.

MAPIE's ``"std_normalized"`` conformity score ``|y - mean| / std`` calls
``predict(X, return_std=True)``, which ``SculptRegressor`` (and a ``Pipeline``
ending in it) answers with the risk. The intervals are then
``mean ± q * risk``: as adaptive as the risk, with a guaranteed average
coverage. This example needs ``pip install mapie`` (1.x).
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import torch
from mapie.regression import SplitConformalRegressor
from sklearn.preprocessing import StandardScaler

from sculpt_sklearn import SculptRegressor
from sculpt_sklearn.datasets import make_heteroscedastic
from sculpt_sklearn.pipeline import make_pipeline

torch.set_num_threads(1)
# SCULPT_EXAMPLES_FAST=1 (set by the test suite and the docs build) trains for fewer epochs.
FAST = os.environ.get("SCULPT_EXAMPLES_FAST") == "1"

# %%
# Three disjoint sets: train, conformalize, test. The noise is heavy-tailed
# (Student-t with 3 degrees of freedom) and the model Gaussian, so its own
# intervals are not exact.
X_train, y_train, _ = make_heteroscedastic(
    n_samples=1500 if FAST else 4000, distribution="studentt", random_state=0
)
X_conf, y_conf, _ = make_heteroscedastic(n_samples=1000, distribution="studentt",
                                         random_state=1)
X_test, y_test, true_std = make_heteroscedastic(n_samples=3000, distribution="studentt",
                                                random_state=2)

model = make_pipeline(
    StandardScaler(),
    SculptRegressor(batch_size=128, max_epochs=30 if FAST else 200, random_state=0),
).fit(X_train, y_train)

# %%
# The model's own 90% intervals (the pipeline of :mod:`sculpt_sklearn.pipeline`
# scales ``X_test`` and calls the last step's ``predict_interval``), and MAPIE's
# split-conformal ones built on the already fitted pipeline (``prefit=True``).
level = 0.9
own_lower, own_upper = model.predict_interval(X_test, confidence_level=level)

mapie = SplitConformalRegressor(
    model, confidence_level=level, conformity_score="std_normalized", prefit=True
)
mapie.conformalize(X_conf, y_conf)
_, bounds = mapie.predict_interval(X_test)
conf_lower, conf_upper = bounds[:, 0, 0], bounds[:, 1, 0]


def report(name, lower, upper):
    inside = (y_test >= lower) & (y_test <= upper)
    print(f"{name:22} coverage {inside.mean():6.1%}   mean width {np.mean(upper - lower):.3f}")


report("model's own interval", own_lower, own_upper)
report("conformal (MAPIE)", conf_lower, conf_upper)

# %%
# The guarantee holds on average over draws of the conformalize set. For one
# set of ``n`` rows, the coverage on new rows varies around its expectation
# with a standard deviation of about ``sqrt(level * (1 - level) / n)``, and the
# test set adds its own sampling error: read the two coverages with that spread
# in mind.
n_conf, n_test = len(y_conf), len(y_test)
print(f"spread from the conformalize set   +/- {np.sqrt(level * (1 - level) / n_conf):.1%}")
print(f"spread from the test set           +/- {np.sqrt(level * (1 - level) / n_test):.1%}")

# %%
# Coverage in each quartile of the true noise level. Both intervals are
# ``mean ± (factor) * risk``, so their width follows the row's risk; an
# interval of constant width would over-cover the quiet rows and under-cover
# the noisy ones. The axis starts at 0.6, not at zero: coverage is a
# proportion read against the dashed 90% target, and the differences that
# matter are a few points. The quietest quartile is over-covered by both:
# the risk there is above the true noise (it includes the error of the mean),
# and one conformal factor for all rows does not change that.
bins = np.quantile(true_std, [0, 0.25, 0.5, 0.75, 1.0])
which = np.clip(np.digitize(true_std, bins[1:-1]), 0, 3)
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, (lo, hi), shift in [("model's own", (own_lower, own_upper), -0.15),
                              ("conformal", (conf_lower, conf_upper), 0.15)]:
    inside = (y_test >= lo) & (y_test <= hi)
    per_bin = [inside[which == b].mean() for b in range(4)]
    ax.bar(np.arange(4) + shift, per_bin, width=0.3, label=name)
ax.axhline(level, color="black", lw=1, ls="--")
ax.set_xticks(range(4), [f"Q{b + 1}" for b in range(4)])
ax.set_xlabel("quartile of the true noise std")
ax.set_ylabel("coverage of the 90% interval")
ax.set_ylim(0.6, 1.0)
ax.legend(fontsize="small")
fig.tight_layout()
plt.show()
