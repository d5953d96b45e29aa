"""
Training objectives compared
============================

``SculptRegressor(loss=...)`` picks what the network minimises. All of them
produce a mean and a risk; they differ in how well each is learned:

* ``"nll"``: the negative log-likelihood. It divides each squared error by
  the predicted variance, so rows the model already calls noisy teach the mean
  little: on hard regions the mean can under-fit (Seitzer et al., 2022).
* ``"beta_nll"`` (the default, ``beta=0.5``): the NLL of each row weighted by
  its (detached) predicted variance to the power ``beta``, which gives those
  rows their weight back.
* ``"faithful"``: squared error for the mean plus the NLL for the risk, with
  the risk head on detached features, so the risk never bends the mean
  (Stirn et al., 2023).
* ``"crps"``: the closed-form continuous ranked probability score.
* ``"sample"``: the Sculpt seed's mode B, the base criterion (MSE) on a
  reparameterised draw ``y_hat + risk * eps``. Its expectation is
  ``(y - y_hat)^2 + risk^2``, which the smallest possible risk minimises: the
  risk collapses towards its floor.
* ``criterion_weight``: the seed's mode A, MSE on the mean added to the
  objective with that weight.

We train each for the same number of epochs (early stopping off, so the
comparison is not blurred by when each run stops) on data with a known noise
level and print the test RMSE, the test NLL and how the risk compares with the
true noise standard deviation.
"""

import os

import matplotlib.pyplot as plt
import numpy as np
import torch

from sculpt_sklearn import SculptRegressor
from sculpt_sklearn.datasets import make_heteroscedastic

torch.set_num_threads(1)
# SCULPT_EXAMPLES_FAST=1 (set by the test suite and the docs build) trains for fewer epochs.
FAST = os.environ.get("SCULPT_EXAMPLES_FAST") == "1"

X_train, y_train, _ = make_heteroscedastic(n_samples=1500 if FAST else 2500, random_state=0)
X_test, y_test, true_std = make_heteroscedastic(n_samples=3000, random_state=1)

settings = {
    "nll": {"loss": "nll"},
    "beta_nll (0.5)": {"loss": "beta_nll", "beta": 0.5},
    "faithful": {"loss": "faithful"},
    "crps": {"loss": "crps"},
    "sample (MSE)": {"loss": "sample"},
    "nll + 1.0 * MSE": {"loss": "nll", "criterion_weight": 1.0},
}
results = {}
for label, params in settings.items():
    reg = SculptRegressor(**params, batch_size=128, max_epochs=10 if FAST else 60,
                          early_stopping=False, random_state=0)
    reg.fit(X_train, y_train)
    mean, risk = reg.predict(X_test, return_risk=True)
    results[label] = {
        "rmse": np.sqrt(np.mean((mean - y_test) ** 2)),
        "nll": -np.mean(reg.predict_dist(X_test).logpdf(y_test)),
        "ratio": np.median(risk / true_std),
        "corr": np.corrcoef(risk, true_std)[0, 1] if np.std(risk) > 0 else np.nan,
        "risk": risk,
        "mean": mean,
    }

print(f"noise floor of the RMSE: {np.sqrt(np.mean(true_std**2)):.3f}")
print(f"{'objective':18} {'RMSE':>7} {'NLL':>9} {'median risk/true std':>21} {'corr':>6}")
for label, r in results.items():
    print(f"{label:18} {r['rmse']:7.3f} {r['nll']:9.3f} {r['ratio']:21.4f} {r['corr']:6.3f}")

# %%
# The predicted risk against the true noise level. ``"sample"`` predicts a
# risk far below the true noise (its NLL is correspondingly large).
#
# Every other objective predicts a risk about twice the true noise on the
# quietest rows (true std below 0.3), and close to it on the noisiest. The
# risk is the spread of the label around *this model's* mean, and on those
# rows the mean's own error is as large as the noise: the root mean squared
# residual there, printed below, is close to the risk, not to the true noise.
# A mean learned better (more rows, more epochs) brings the risk down to the
# noise.
quiet = true_std < 0.3
print(f"\nrows with true std < 0.3: {quiet.sum()}, median true std "
      f"{np.median(true_std[quiet]):.3f}")
for label in ["nll", "beta_nll (0.5)"]:
    r = results[label]
    rms = np.sqrt(np.mean((y_test[quiet] - r["mean"][quiet]) ** 2))
    print(f"  {label:16} median risk {np.median(r['risk'][quiet]):.3f}   "
          f"RMS residual {rms:.3f}")
fig, ax = plt.subplots(figsize=(8, 4))
for label, r in results.items():
    ax.scatter(true_std, r["risk"], s=2, alpha=0.3, label=label)
ax.plot([0.1, 1], [0.1, 1], color="black", lw=1, label="risk = true std")
ax.set_yscale("log")
ax.set_xlabel("true noise std")
ax.set_ylabel("predicted risk (log scale)")
ax.legend(markerscale=4, fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1))
fig.tight_layout()
plt.show()
