"""
Bring your own PyTorch module
=============================

Any ``torch.nn.Module`` that maps a float tensor ``(n_samples, n_features)``
to ``(n_samples, n_outputs)`` can be trained by
:class:`~sculpt_sklearn.SculptRegressor`. Pass the *class*:

* its constructor arguments become estimator parameters with the
  ``module__`` prefix (``module__hidden=32``), visible to ``get_params``,
  ``set_params``, ``clone`` and ``GridSearchCV``;
* arguments named ``n_features`` and ``n_outputs`` are filled in from the
  data at ``fit``;
* the risk head reads the features that enter the module's last
  ``nn.Linear``; when that is not the layer that makes the output, name the
  right one with ``layer=``.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from sculpt_sklearn import SculptRegressor
from sculpt_sklearn.datasets import make_heteroscedastic

torch.set_num_threads(1)
# SCULPT_EXAMPLES_FAST=1 (set by the test suite and the docs build) trains for fewer epochs.
FAST = os.environ.get("SCULPT_EXAMPLES_FAST") == "1"
EPOCHS = 30 if FAST else 200


# %%
# A user module. ``n_features`` and ``n_outputs`` are filled in by the
# estimator; ``hidden`` is ours to set.
class TwoLayerNet(nn.Module):
    def __init__(self, n_features, n_outputs=1, hidden=64):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(n_features, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU()
        )
        self.head = nn.Linear(hidden, n_outputs)

    def forward(self, x):
        return self.head(self.body(x))


X, y, true_std = make_heteroscedastic(n_samples=2000, random_state=0)
X_train, X_test, y_train, y_test, _, std_test = train_test_split(
    X, y, true_std, test_size=0.3, random_state=0
)

reg = SculptRegressor(
    TwoLayerNet, module__hidden=32, batch_size=128, max_epochs=EPOCHS, random_state=0
)
print("module__hidden =", reg.get_params()["module__hidden"])
reg.set_params(module__hidden=48)
model = make_pipeline(StandardScaler(), reg).fit(X_train, y_train)
print("risk head reads the input of layer:", reg.module_.layer_name)
print(reg.module_.model)


# %%
# A module whose last ``nn.Linear`` is *not* its output layer: a linear
# shortcut from the raw inputs is declared after the head. By default the risk
# head would read the shortcut's input (the raw features); ``layer="head"``
# points it at the hidden representation instead.
class ShortcutNet(nn.Module):
    def __init__(self, n_features, n_outputs=1, hidden=64):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_features, hidden), nn.SiLU())
        self.head = nn.Linear(hidden, n_outputs)
        self.shortcut = nn.Linear(n_features, n_outputs)

    def forward(self, x):
        return self.head(self.body(x)) + self.shortcut(x)


results = {}
for layer in [None, "head"]:
    shortcut = SculptRegressor(
        ShortcutNet, module__hidden=48, layer=layer, batch_size=128, max_epochs=EPOCHS,
        random_state=0,
    )
    pipe = make_pipeline(StandardScaler(), shortcut).fit(X_train, y_train)
    mean, risk = pipe.predict(X_test, return_risk=True)
    results[layer] = risk
    corr = np.corrcoef(risk, std_test)[0, 1]
    print(f"layer={layer!r:7} reads {shortcut.module_.layer_name!r:11} "
          f"corr(risk, true std) {corr:.3f}")

# %%
# Compare the printed correlations of the two runs. With ``layer=None`` the
# head reads the 4 raw inputs, and its hidden layer is as wide as what it
# reads (4 units); with ``layer="head"`` it reads the 48 hidden features that
# the mean is computed from.
#
# Lazy layers work too: the estimator runs the module once on two rows before
# wrapping it, so ``nn.LazyLinear`` knows its input width. Such a module needs
# no ``n_features`` argument.
class LazyNet(nn.Module):
    def __init__(self, n_outputs=1, hidden=64):
        super().__init__()
        self.body = nn.Sequential(nn.LazyLinear(hidden), nn.SiLU())
        self.head = nn.Linear(hidden, n_outputs)

    def forward(self, x):
        return self.head(self.body(x))


lazy = make_pipeline(
    StandardScaler(),
    SculptRegressor(LazyNet, module__hidden=48, batch_size=128, max_epochs=EPOCHS,
                    random_state=0),
).fit(X_train, y_train)
print("LazyNet first layer:", lazy[-1].module_.model.body[0])

# %%
# Predicted risk against the true noise level of each test row.
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True)
for ax, layer in zip(axes, [None, "head"], strict=True):
    ax.scatter(std_test, results[layer], s=4, alpha=0.5)
    ax.plot([0, 1], [0, 1], color="black", lw=1)
    ax.set_title(f"ShortcutNet, layer={layer!r}")
    ax.set_xlabel("true noise std")
axes[0].set_ylabel("predicted risk")
fig.tight_layout()
plt.show()
