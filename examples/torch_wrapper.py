"""
Plain PyTorch: wrap a model so that it also predicts its risk
=============================================================

The torch-level API needs no scikit-learn estimator.
``sculpt.Wrapper(sculpt.Normal, n_layers=2)(model)`` returns a module whose
``forward(x)`` is the model's own and whose ``forward(x, return_risk=True)``
also returns the predictive standard deviation (the *risk*) of every row.

Two training loops from the Sculpt seed are compared on built-in data whose
true noise level is known:

* **mode A** adds the distribution's negative log-likelihood to the usual
  loss: ``loss = mse(y_hat, y) + scale * dist.loss_function(y, y_hat, y_risk)``;
* **mode B** trains on reparameterised draws:
  ``loss = mse(dist.sample((y_hat, y_risk)), y)``.

Mode A learns the noise level. Mode B with a squared error does not: for a
draw ``y_hat + risk * eps`` with ``eps`` of mean 0 and variance 1,
``E[(y - y_hat - risk * eps)^2] = (y - y_hat)^2 + risk^2``, so the risk only
adds to the loss and training pushes it down to its floor (``min_risk``).
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.stats import spearmanr
from torch import nn

from sculpt_sklearn import sculpt
from sculpt_sklearn.datasets import make_heteroscedastic

# One torch thread: small networks train fastest that way on a few cores.
torch.set_num_threads(1)
# SCULPT_EXAMPLES_FAST=1 (set by the test suite) trains for fewer epochs.
FAST = os.environ.get("SCULPT_EXAMPLES_FAST") == "1"
N_EPOCHS = 12 if FAST else 40
BATCH_SIZE = 500

# %%
# Data with a known noise level
# -----------------------------
# The target is standardised by hand (the estimator does this inside ``fit``);
# predictions and risks are mapped back to the units of ``y`` for the scores.

X_train, y_train, _ = make_heteroscedastic(n_samples=4000, noise=1.0, random_state=0)
X_test, y_test, true_std = make_heteroscedastic(n_samples=2000, noise=1.0, random_state=1)
y_mean, y_scale = y_train.mean(), y_train.std()

X_train_t = torch.tensor(X_train, dtype=torch.float32)
y_train_t = torch.tensor((y_train - y_mean) / y_scale, dtype=torch.float32).reshape(-1, 1)
X_test_t = torch.tensor(X_test, dtype=torch.float32)


def make_model(n_features, width=32):
    """A small MLP, the kind of model a user already has.

    Parameters
    ----------
    n_features : int
        Input width.
    width : int, default=32
        Width of the two hidden layers.

    Returns
    -------
    torch.nn.Sequential
        The model; its last layer is the ``nn.Linear`` the risk head reads from.
    """
    return nn.Sequential(
        nn.Linear(n_features, width),
        nn.Tanh(),
        nn.Linear(width, width),
        nn.Tanh(),
        nn.Linear(width, 1),
    )


def train(mode, dist=sculpt.Normal, scale=1.0, seed=0):
    """Wrap a fresh model and train it with one of the seed's two loops.

    Parameters
    ----------
    mode : {"A", "B"}
        ``"A"``: squared error plus ``scale`` times the distribution's NLL;
        ``"B"``: squared error of reparameterised draws.
    dist : sculpt distribution class, default=sculpt.Normal
        The output family.
    scale : float, default=1.0
        Weight of the NLL term in mode A.
    seed : int, default=0
        Seed of the initial weights and of the batch order.

    Returns
    -------
    sculpt.SculptModule
        The trained wrapped model.
    """
    torch.manual_seed(seed)
    wrapped = sculpt.Wrapper(dist, n_layers=2)(make_model(X_train_t.shape[1]))
    # The risk head is built at wrap time: the optimizer sees all parameters now.
    optimizer = torch.optim.Adam(wrapped.parameters(), lr=5e-3)
    mse = nn.MSELoss()
    n = len(X_train_t)
    for _ in range(N_EPOCHS):
        for batch in torch.randperm(n).split(BATCH_SIZE):
            x, y = X_train_t[batch], y_train_t[batch]
            y_hat, y_risk = wrapped(x, return_risk=True)
            if mode == "A":
                loss = mse(y_hat, y) + scale * dist.loss_function(y, y_hat, y_risk)
            else:
                loss = mse(dist.sample((y_hat, y_risk)), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return wrapped


def evaluate(wrapped):
    """Scores on the test rows, in the units of ``y``.

    Parameters
    ----------
    wrapped : sculpt.SculptModule
        A trained wrapped model.

    Returns
    -------
    dict
        RMSE, Gaussian NLL, Spearman correlation of the risk with the true
        noise std, the median risk, and the risk of every test row.
    """
    wrapped.eval()
    with torch.no_grad():
        y_hat, y_risk = wrapped(X_test_t, return_risk=True)
    mean = y_hat.numpy().ravel().astype(np.float64) * y_scale + y_mean
    risk = y_risk.numpy().ravel().astype(np.float64) * y_scale
    y, m, s = (torch.tensor(a) for a in (y_test, mean, risk))
    return {
        "rmse": float(np.sqrt(np.mean((mean - y_test) ** 2))),
        "nll": float(sculpt.Normal.loss_function(y, m, s)),
        "spearman": float(spearmanr(risk, true_std).statistic),
        "median_risk": float(np.median(risk)),
        "risk": risk,
    }


# %%
# Mode A: squared error plus the negative log-likelihood
# ------------------------------------------------------

scores_a = evaluate(train("A"))

# %%
# Mode B: squared error of reparameterised draws
# ----------------------------------------------

scores_b = evaluate(train("B"))

# %%
# Results
# -------
# Mode A ranks the rows by their noise level and gets the level right. Mode B
# predicts the mean as well, but its risk has collapsed toward the floor: a
# squared error on draws rewards a smaller spread whatever the noise, so the
# reparameterised loop needs a proper scoring rule (NLL or CRPS) instead.

print(f"{'':34s}{'mode A':>12s}{'mode B':>12s}")
for key, label in [
    ("rmse", "test RMSE"),
    ("nll", "test NLL (Gaussian)"),
    ("spearman", "Spearman(risk, true noise std)"),
    ("median_risk", "median risk"),
]:
    print(f"{label:34s}{scores_a[key]:12.3f}{scores_b[key]:12.3f}")
print(f"{'median true noise std':34s}{np.median(true_std):12.3f}")
print(f"{'noise floor of the RMSE':34s}{np.sqrt(np.mean(true_std**2)):12.3f}")
print(
    f"\nMode B with MSE collapses the risk: its median risk is {scores_b['median_risk']:.4f} "
    f"against a true median noise std of {np.median(true_std):.3f}, because "
    "E[(y - y_hat - risk * eps)^2] = (y - y_hat)^2 + risk^2 only grows with the risk."
)

# %%
# The risk of every test row against the true noise level
# --------------------------------------------------------
# On the diagonal the predicted risk equals the noise the data were made with.
# Mode A follows it, except on the quietest rows, where its risk stays near
# 0.25: the risk is the spread of the label around *this model's* mean, and
# the mean's own error (the RMSE is above the noise floor) counts in it. Mode
# B's risks lie flat near zero, whatever the noise.

fig, ax = plt.subplots(figsize=(5.5, 4.5))
limit = [0, float(true_std.max()) * 1.05]
ax.scatter(true_std, scores_a["risk"], s=3, alpha=0.4, label="mode A (MSE + NLL)")
ax.scatter(true_std, scores_b["risk"], s=3, alpha=0.4, label="mode B (MSE of draws)")
ax.plot(limit, limit, color="black", lw=1, label="predicted = true")
ax.set_xlim(limit)
ax.set_ylim(bottom=0)
ax.set_xlabel("true noise std")
ax.set_ylabel("predicted risk")
ax.legend(markerscale=4)
fig.tight_layout()
plt.show()
