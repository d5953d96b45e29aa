"""Test doubles shared by the metric, scorer, calibration and plotting tests."""

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from skorch.callbacks import Callback

from sculpt_sklearn.sculpt import get_distribution


class Oracle(RegressorMixin, BaseEstimator):
    """Predicts mean ``X[:, 0]`` and std ``factor * X[:, 1]`` (no training);
    optionally declares a predictive family as ``distribution_``."""

    def __init__(self, factor=1.0, distribution=None):
        self.factor = factor
        self.distribution = distribution

    def fit(self, X, y, sample_weight=None):
        self.n_features_in_ = np.asarray(X).shape[1]
        if self.distribution is not None:
            self.distribution_ = get_distribution(self.distribution)
        return self

    def predict(self, X, return_std=False):
        X = np.asarray(X, dtype=float)
        mean, std = X[:, 0], self.factor * X[:, 1]
        return (mean, std) if return_std else mean


class Miscalibrated(RegressorMixin, BaseEstimator):
    """Fits ``estimator`` and multiplies its predicted std by ``factor`` at predict time."""

    def __init__(self, estimator, factor=1.0):
        self.estimator = estimator
        self.factor = factor

    def fit(self, X, y, sample_weight=None):
        self.estimator_ = clone(self.estimator).fit(X, y)
        return self

    def predict(self, X, return_std=False):
        mean, std = self.estimator_.predict(X, return_std=True)
        return (mean, self.factor * std) if return_std else mean


class NaNGradientsAt(Callback):
    """Make every gradient NaN in one epoch (the optimizer's moments too), so training
    diverges there."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_grad_computed(self, net, named_parameters, **kwargs):
        if len(net.history) == self.epoch:
            for _, p in named_parameters:
                if p.grad is not None:
                    p.grad.fill_(float("nan"))
