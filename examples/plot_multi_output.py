"""
Several targets at once
=======================

With a 2-D ``y`` of shape ``(n_samples, n_outputs)``,
:class:`~sculpt_sklearn.SculptRegressor` predicts a mean and a risk for every
row *and* every target: ``predict(X, return_risk=True)`` returns two arrays of
the shape of ``y``. Each target is standardised on its own inside ``fit``, so
targets on very different scales train together.

Here the two targets share the inputs but not their noise: the noise of the
first grows with ``x0``, that of the second with ``|x1|``, and the second is
on a scale a thousand times larger.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sculpt_sklearn import SculptRegressor

torch.set_num_threads(1)
# SCULPT_EXAMPLES_FAST=1 (set by the test suite and the docs build) trains for fewer epochs.
FAST = os.environ.get("SCULPT_EXAMPLES_FAST") == "1"

# %%
# Two noisy targets with known noise levels.
rng = np.random.default_rng(0)
n = 2000 if FAST else 4000
X = rng.uniform(-2, 2, size=(n, 3))
true_std = np.column_stack([
    0.1 + 0.4 * (X[:, 0] + 2) / 4,           # grows with x0
    1000.0 * (0.1 + 0.4 * np.abs(X[:, 1]) / 2),  # grows with |x1|, in thousands
])
mean = np.column_stack([
    np.sin(X[:, 0]) + 0.5 * X[:, 2],
    1000.0 * (0.5 * X[:, 1] ** 2 - X[:, 2]),
])
y = mean + true_std * rng.standard_normal((n, 2))
X_train, X_test, y_train, y_test, _, std_test = train_test_split(
    X, y, true_std, test_size=0.3, random_state=0
)

model = make_pipeline(
    StandardScaler(),
    SculptRegressor(batch_size=128, max_epochs=15 if FAST else 300, random_state=0),
)
model.fit(X_train, y_train)
reg = model[-1]

y_mean, y_risk = model.predict(X_test, return_risk=True)
print(f"n_outputs_ = {reg.n_outputs_}; predict shapes {y_mean.shape} and {y_risk.shape}")
print("target scaling y_scale_ =", ", ".join(f"{v:.2f}" for v in reg.y_scale_))
for k in range(2):
    corr = np.corrcoef(y_risk[:, k], std_test[:, k])[0, 1]
    rmse = np.sqrt(np.mean((y_mean[:, k] - y_test[:, k]) ** 2))
    print(f"target {k}: RMSE {rmse:9.3f}  (noise floor {np.sqrt(np.mean(std_test[:, k] ** 2)):9.3f})"
          f"  corr(risk, true std) {corr:.3f}")

# %%
# Predicted risk against the true noise level, one panel per target. Each
# target gets its own risk, in its own units (the second is in thousands).
# On both, the quietest rows get a risk above their true noise: the risk is
# the spread of the label around this model's mean, and the mean's own error
# counts in it. The second target's risk is also flatter than its noise (too
# high on quiet rows, too low on the noisiest) after the fast run's 15
# epochs.
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
for k, ax in enumerate(axes):
    ax.scatter(std_test[:, k], y_risk[:, k], s=4, alpha=0.5)
    lim = [0, std_test[:, k].max() * 1.2]
    ax.plot(lim, lim, color="black", lw=1)
    ax.set_title(f"target {k}")
    ax.set_xlabel("true noise std")
    ax.set_ylabel("predicted risk")
fig.tight_layout()
plt.show()
