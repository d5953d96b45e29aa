"""SculptRegressor: a scikit-learn regressor that also predicts its risk."""

from __future__ import annotations

import copy
import logging
import math
import warnings
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
from skorch.callbacks import EarlyStopping, ProgressBar
from torch import nn

from ._data import TensorData, as_tensor
from ._net import DivergenceGuard, SculptNet, TrainingDiverged
from ._objectives import OBJECTIVES, uses_detached_features
from ._params import PrefixedParamsMixin, accepted_kwargs, check_kwargs_for, split_prefixed
from ._risk_scale import fit_risk_scale
from .metrics import _check_confidence_level
from .mlp import MLP
from .sculpt.distributions import DISTRIBUTIONS, SculptDistribution, get_distribution
from .sculpt.wrapper import SculptModule

__all__ = ["SculptRegressor"]

logger = logging.getLogger(__name__)

#: Floor of the predicted standard deviation, in units of the standardised target.
_MIN_RISK = 1e-4
#: Fewest held-out rows on which calibrate_risk fits its factor.
_MIN_CALIBRATION_ROWS = 20
#: Version of the file layout written by save_params.
_PARAMS_FORMAT = 1
#: Rows per forward pass at prediction time.
_PREDICT_BATCH = 8192


class SculptRegressor(PrefixedParamsMixin, RegressorMixin, BaseEstimator):
    """Neural-network regressor that predicts a mean and a risk for every row.

    A PyTorch module (a built-in MLP by default) is wrapped with
    :class:`sculpt_sklearn.sculpt.Wrapper` so that it also outputs a
    predictive standard deviation (the *risk*), and trained through skorch
    with a distribution loss. The target is standardised inside ``fit`` and
    means and risks are mapped back to the units of ``y``. Inputs are not
    scaled: put a :class:`~sklearn.preprocessing.StandardScaler` in front of
    it in a :class:`~sklearn.pipeline.Pipeline`, as for any neural network.

    Parameters
    ----------
    module : None, nn.Module class or nn.Module instance, default=None
        The network that predicts the mean. ``None`` uses
        :class:`sculpt_sklearn.MLP`. A class is built with the ``module__*``
        parameters; its ``n_features`` and ``n_outputs`` arguments, when it
        has them, are filled in from the data (lazy layers work too). An
        instance is deep-copied at each ``fit`` and never trained in place.
        Its last ``nn.Linear`` must produce the output (see ``layer``).
    distribution : {"normal", "laplace", "studentt"} or sculpt class, default="normal"
        The output family (e.g. ``sculpt.StudentT.with_df(3)``).
    n_layers : int, default=2
        Number of layers of the risk head.
    risk_hidden : int, default=None
        Width of the risk head's hidden layers; default: the width of the
        features it reads (the input of ``layer``). Widen it when ``layer``
        reads a narrow input.
    layer : str, default=None
        Name of the ``nn.Linear`` whose input feeds the risk head; default:
        the module's last ``nn.Linear``.
    loss : {"nll", "beta_nll", "crps", "faithful", "sample"}, default="beta_nll"
        Training objective. ``"nll"``: negative log-likelihood.
        ``"beta_nll"``: NLL weighted by ``std ** (2 * beta)`` (Seitzer et
        al. 2022), which keeps the mean from under-fitting hard regions.
        ``"crps"``: closed-form CRPS. ``"faithful"``: MSE for the mean plus
        NLL with a risk head on detached features (Stirn et al. 2023).
        ``"sample"``: ``criterion`` on a reparameterised draw (the Sculpt
        seed's mode B; with a convex criterion such as MSE the risk
        collapses to its floor).
    beta : float, default=0.5
        Exponent of ``"beta_nll"``, in ``[0, 1]``.
    criterion : nn.Module class, default=None
        Base criterion for ``loss="sample"`` and ``criterion_weight``
        (``nn.MSELoss`` when None); built with ``reduction="none"`` and
        the ``criterion__*`` parameters.
    criterion_weight : float, default=0.0
        Weight of the base criterion on the mean, added to the objective
        (the Sculpt seed's mode A).
    target_loc, target_scale : float or array-like of shape (n_outputs,), default=None
        Fix the target standardisation ``z = (y - target_loc) / target_scale``
        instead of computing it from the data (from the first chunk, for
        ``partial_fit``). Set both or neither; useful when streaming data
        whose first chunk is not representative.
    max_epochs : int or "auto", default="auto"
        Maximum number of passes over the training data. ``"auto"``: 1000
        below 1000 training rows, else 300 (see "Defaults" below).
    batch_size : int or "auto", default="auto"
        Rows per gradient step. ``"auto"``: 32 up to 2000 training rows,
        else 64.
    lr : float or "auto", default="auto"
        Learning rate. ``"auto"``: 3e-3 up to 2000 training rows, else 1e-3.
    optimizer : torch optimizer class, default=torch.optim.AdamW
        Built with ``lr``, ``weight_decay`` and the ``optimizer__*`` parameters.
    weight_decay : float, default=0.0
        Decoupled weight decay (L2) of the optimizer.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training rows, stop when
        the validation NLL has not improved by ``tol`` for
        ``n_iter_no_change`` epochs, and restore the best weights.
    validation_fraction : float, default=0.1
        Share of rows held out for early stopping.
    calibrate_risk : bool, default=True
        After early stopping, rescale the risk by one factor per output,
        fitted by maximum likelihood on the held-out rows (needs at least
        ``20`` of them; otherwise the factor stays 1). The network fits its
        variance to training residuals, which are smaller than residuals on
        new rows, so the raw risk tends to be over-confident.
    n_iter_no_change : int or "auto", default="auto"
        Patience of early stopping, in epochs. ``"auto"``: 50 below 1000
        training rows (they give few steps per epoch), else 20.
    tol : float, default=1e-4
        Smallest improvement of the validation NLL that counts.
    max_grad_norm : float, default=None
        Clip the gradient norm to this value at each step when set.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, the validation split, batch order and
        dropout; the global torch random state is left untouched.
    device : str or torch.device, default="cpu"
        Where to train and predict (``"cuda"`` for a GPU).
    verbose : int, default=0
        ``1`` prints skorch's table of epochs.
    progress_bar : bool, default=False
        Show skorch's tqdm progress bar over the batches (needs tqdm).
    callbacks : list of skorch callbacks, default=None
        Extra callbacks, as ``[("name", callback), ...]`` or a list.
    warm_start : bool, default=False
        Continue from the previous fit's weights and target scaling.
    **kwargs
        ``module__*``, ``optimizer__*`` and ``criterion__*`` parameters.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame with string column names.
    n_outputs_ : int
        Number of targets.
    distribution_ : SculptDistribution subclass
        The resolved output family.
    y_loc_, y_scale_ : ndarray of shape (n_outputs,)
        The target standardisation: ``y = y_loc_ + y_scale_ * z``.
    risk_scale_ : ndarray of shape (n_outputs,)
        Factor applied to the network's risk (see ``calibrate_risk``; ones
        when it is off or there were too few held-out rows).
    net_ : skorch.NeuralNet
        The trained skorch net.
    module_ : SculptModule
        The trained torch module (``net_.module_``).
    history_ : skorch.History
        Losses per epoch (``net_.history``).
    n_iter_ : int
        Number of epochs trained in total.

    Notes
    -----
    **Defaults.** The ``"auto"`` values are one rule on the number of rows
    ``n`` passed to ``fit``, chosen on inner validation splits of the UCI
    regression benchmark (``docs/benchmarks.md``): small data sets get few
    steps per epoch, so they train with smaller batches, a larger learning
    rate and more patience. The resolved values are in :attr:`net_`
    (``net_.lr``, ``net_.batch_size``, ``net_.max_epochs``).

    See Also
    --------
    sculpt_sklearn.sculpt.Wrapper : the torch-level wrapper this builds on.

    Examples
    --------
    >>> from sculpt_sklearn import SculptRegressor
    >>> from sculpt_sklearn.datasets import make_heteroscedastic
    >>> X, y, _ = make_heteroscedastic(n_samples=200, random_state=0)
    >>> reg = SculptRegressor(max_epochs=5, random_state=0).fit(X, y)
    >>> mean, risk = reg.predict(X[:3], return_risk=True)
    >>> mean.shape, bool((risk > 0).all())
    ((3,), True)
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "module": [None, type, nn.Module],
        "distribution": [StrOptions(set(DISTRIBUTIONS)), type],
        "n_layers": [Interval(Integral, 1, None, closed="left")],
        "risk_hidden": [None, Interval(Integral, 1, None, closed="left")],
        "layer": [None, str],
        "loss": [StrOptions(set(OBJECTIVES))],
        "beta": [Interval(Real, 0, 1, closed="both")],
        "criterion": [None, type, nn.Module],
        "criterion_weight": [Interval(Real, 0, None, closed="left")],
        "target_loc": [None, Real, "array-like"],
        "target_scale": [None, Real, "array-like"],
        "max_epochs": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "lr": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
        "optimizer": [type],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "calibrate_risk": ["boolean"],
        "n_iter_no_change": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_grad_norm": [None, Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "device": [str, torch.device],
        "verbose": ["verbose"],
        "progress_bar": ["boolean"],
        "callbacks": [None, list],
        "warm_start": ["boolean"],
    }

    # MAPIE and uncertainty scorers call predict(X, return_std=True): with metadata
    # routing on, a Pipeline forwards these keywords without a set_predict_request.
    __metadata_request__predict: ClassVar[dict[str, bool]] = {
        "return_std": True,
        "return_risk": True,
    }

    def __init__(
        self,
        module: type[nn.Module] | nn.Module | None = None,
        *,
        distribution: str | type[SculptDistribution] = "normal",
        n_layers: int = 2,
        risk_hidden: int | None = None,
        layer: str | None = None,
        loss: str = "beta_nll",
        beta: float = 0.5,
        criterion: type[nn.Module] | nn.Module | None = None,
        criterion_weight: float = 0.0,
        target_loc: float | np.ndarray | None = None,
        target_scale: float | np.ndarray | None = None,
        max_epochs: int | str = "auto",
        batch_size: int | str = "auto",
        lr: float | str = "auto",
        optimizer: type[torch.optim.Optimizer] = torch.optim.AdamW,
        weight_decay: float = 0.0,
        early_stopping: bool = True,
        validation_fraction: float = 0.1,
        calibrate_risk: bool = True,
        n_iter_no_change: int | str = "auto",
        tol: float = 1e-4,
        max_grad_norm: float | None = None,
        random_state: int | np.random.RandomState | None = None,
        device: str | torch.device = "cpu",
        verbose: int = 0,
        progress_bar: bool = False,
        callbacks: list | None = None,
        warm_start: bool = False,
        **kwargs: Any,
    ) -> None:
        self.module = module
        self.distribution = distribution
        self.n_layers = n_layers
        self.risk_hidden = risk_hidden
        self.layer = layer
        self.loss = loss
        self.beta = beta
        self.criterion = criterion
        self.criterion_weight = criterion_weight
        self.target_loc = target_loc
        self.target_scale = target_scale
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.calibrate_risk = calibrate_risk
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.max_grad_norm = max_grad_norm
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.progress_bar = progress_bar
        self.callbacks = callbacks
        self.warm_start = warm_start
        self._prefixed_params = kwargs

    # ------------------------------------------------------------------ tags
    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        tags.input_tags.allow_nan = False
        return tags

    # ------------------------------------------------------------- fitted views
    @property
    def module_(self) -> SculptModule:
        """The trained torch module (``net_.module_``)."""
        check_is_fitted(self, "net_")
        return self.net_.module_

    @property
    def history_(self) -> Any:
        """skorch's training history (``net_.history``)."""
        check_is_fitted(self, "net_")
        return self.net_.history

    # ------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SculptRegressor:
        """Train the network on ``(X, y)``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Numeric features (cast to float32 once).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights of the loss.

        Returns
        -------
        self : SculptRegressor
            The fitted estimator.
        """
        continuing = self.warm_start and hasattr(self, "net_")
        return self._fit(X, y, sample_weight, incremental=False, continuing=continuing)

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> SculptRegressor:
        """One epoch over ``(X, y)``, continuing from the current weights.

        The first call sets up the network and standardises the target with
        that chunk's mean and standard deviation (or with ``target_loc`` and
        ``target_scale`` when set); later chunks keep them. Early stopping is
        not used.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : SculptRegressor
        """
        continuing = hasattr(self, "net_")
        if not continuing:
            self._validate_params()
        return self._fit(X, y, sample_weight, incremental=True, continuing=continuing)

    def _fit(
        self, X: Any, y: Any, sample_weight: Any, *, incremental: bool, continuing: bool
    ) -> SculptRegressor:
        self._check_device(continuing)
        X, y = _numeric_input(
            validate_data, self, X, y, reset=not continuing, dtype=np.float32,
            multi_output=True, y_numeric=True, ensure_min_samples=2 if not incremental else 1,
        )
        try:
            y2d = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"y must hold numbers ({exc}); encode a text target as numbers first."
            ) from exc
        y2d = y2d.reshape(-1, 1) if y2d.ndim == 1 else y2d
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
            if not np.any(sample_weight):  # scikit-learn 1.6 lets all-zero weights through
                raise ValueError(
                    "sample_weight must contain at least one non-zero weight; all "
                    f"{sample_weight.size} are zero. Give the rows to train on a positive weight."
                )
        if continuing:
            if y2d.shape[1] != self.n_outputs_:
                raise ValueError(
                    f"y has {y2d.shape[1]} output(s) but the model was fitted with "
                    f"{self.n_outputs_}; set warm_start=False to start over."
                )
        else:
            self._setup(X, y2d, np.ndim(y), sample_weight)

        z = (y2d - self.y_loc_) / self.y_scale_
        device = self.device
        X_t = as_tensor(X, torch.float32, device)
        z_t = torch.as_tensor(z, dtype=torch.float32, device=device)
        w_t = None
        if sample_weight is not None:
            w_t = torch.as_tensor(sample_weight / sample_weight.mean(), dtype=torch.float32,
                                  device=device)
        data = TensorData(X_t, z_t, w_t)

        seed = self._seed_sequence.integers(2**31 - 1) if continuing else self._seed
        with torch.random.fork_rng(devices=self._rng_devices()):
            torch.manual_seed(int(seed))
            self.net_.generator.manual_seed(int(seed))
            if incremental:
                self._disable_early_stopping()
                self._train(data, epochs=1)
            else:
                self._train(data, epochs=self.net_.max_epochs)
        return self

    def _setup(self, X: np.ndarray, y2d: np.ndarray, y_ndim: int, sample_weight: Any) -> None:
        """Standardise the target from the data (or the given statistics), then build."""
        if (self.target_loc is None) != (self.target_scale is None):
            raise ValueError(
                "Set both target_loc and target_scale (to fix the target standardisation) "
                "or neither (to compute it from the data)."
            )
        if self.target_loc is not None:
            loc, scale = (
                np.broadcast_to(np.asarray(v, dtype=np.float64), (y2d.shape[1],)).copy()
                for v in (self.target_loc, self.target_scale)
            )
            if not (np.all(np.isfinite(loc)) and np.all(np.isfinite(scale)) and np.all(scale > 0)):
                raise ValueError(
                    "target_loc must be finite and target_scale finite and > 0; got "
                    f"{self.target_loc!r} and {self.target_scale!r}."
                )
            self._build(X[:2], loc, scale, y_ndim=y_ndim, n_rows=X.shape[0])
            return
        loc = np.average(y2d, axis=0, weights=sample_weight)
        scale = np.sqrt(np.average((y2d - loc) ** 2, axis=0, weights=sample_weight))
        constant = scale <= 1e3 * np.finfo(np.float64).eps * np.maximum(np.abs(loc), 1e-300)
        scale = np.where(constant | ~np.isfinite(scale), 1.0, scale)
        self._build(X[:2], loc, scale, y_ndim=y_ndim, n_rows=X.shape[0])

    def _build(
        self,
        probe: np.ndarray,
        y_loc: np.ndarray,
        y_scale: np.ndarray,
        y_ndim: int,
        n_rows: int | None = None,
    ) -> None:
        """Resolve the parameters and build a fresh net (module, optimizer, callbacks).

        ``probe`` holds a row or two of X; the module runs on them once, which
        initialises lazy layers and checks the output shape. ``n_rows``, the
        size of the training data, resolves the ``"auto"`` parameters.
        """
        groups = split_prefixed(self._prefixed_params, sorted(self._parameter_constraints))
        self.distribution_ = get_distribution(self.distribution)
        if self.loss == "crps" and not self.distribution_.has_crps:
            raise ValueError(
                f"loss='crps' has no closed form for {self.distribution_!r}; use loss='nll'."
            )
        self.n_outputs_ = len(y_loc)
        self._y_1d = y_ndim == 1
        self.y_loc_ = np.asarray(y_loc, dtype=np.float64)
        self.y_scale_ = np.asarray(y_scale, dtype=np.float64)
        self.risk_scale_ = np.ones(self.n_outputs_)

        rng = check_random_state(self.random_state)
        self._seed = int(rng.randint(2**31 - 1))
        self._seed_sequence = np.random.default_rng(self._seed)
        with torch.random.fork_rng(devices=self._rng_devices()):
            torch.manual_seed(self._seed)
            module = self._build_module(probe, groups["module"])
        self.net_ = self._build_net(module, groups, n_rows)
        self.net_.initialize()
        self.n_iter_ = 0

    def _check_device(self, continuing: bool) -> None:
        """Refuse a device that does not exist, or that the fitted weights are not on."""
        device = torch.device(self.device)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                f"device={self.device!r} but CUDA is not available "
                "(torch.cuda.is_available() is False); install a CUDA build of torch or "
                "use device='cpu'."
            )
        if continuing:
            current = next(self.net_.module_.parameters()).device
            if current.type != device.type or (
                device.index is not None and current.index != device.index
            ):
                raise ValueError(
                    f"The fitted weights are on {current}, but device={self.device!r}; "
                    f"call set_params(device='{current}') to continue training there, or "
                    "set warm_start=False to start over on the new device."
                )

    def _rng_devices(self) -> list[int]:
        device = torch.device(self.device)
        if device.type == "cuda":
            return [device.index or 0]
        return []

    def _build_module(self, probe: np.ndarray, module_kwargs: dict[str, Any]) -> SculptModule:
        """Instantiate or copy the user's module, check it, and wrap it."""
        spec = MLP if self.module is None else self.module
        if isinstance(spec, nn.Module):
            if module_kwargs:
                raise ValueError(
                    f"module__{next(iter(module_kwargs))} sets a constructor argument, but "
                    "module is an instance; pass the class instead, e.g. "
                    f"module={type(spec).__name__}."
                )
            module = copy.deepcopy(spec)
        elif isinstance(spec, type) and issubclass(spec, nn.Module):
            check_kwargs_for("module", spec, module_kwargs)
            kwargs = dict(module_kwargs)
            accepted = _accepted_or_all(spec)
            for name, value in (("n_features", probe.shape[1]), ("n_outputs", self.n_outputs_)):
                if name in accepted and name not in kwargs:
                    kwargs[name] = value
            module = spec(**kwargs)
        else:
            raise TypeError(
                f"module must be None, a torch.nn.Module subclass or an instance; got {spec!r}."
            )
        module = module.to(self.device)
        self._check_module_output(module, probe)
        wrapper_module = SculptModule(
            module,
            distribution=self.distribution_,
            n_layers=self.n_layers,
            layer=self.layer,
            hidden=self.risk_hidden,
            detach_features=uses_detached_features(self.loss),
            min_risk=_MIN_RISK,
        )
        return wrapper_module.to(self.device)

    def _check_module_output(self, module: nn.Module, rows: np.ndarray) -> None:
        """Run the module on a few rows: initialises lazy layers and checks the shape."""
        probe = as_tensor(rows, torch.float32, self.device)
        try:
            with torch.no_grad():
                out = module(probe)
        except Exception as exc:
            raise ValueError(
                f"The module's forward failed on a batch of shape {tuple(probe.shape)} "
                f"({type(exc).__name__}: {exc}). It must take a float32 tensor "
                "(n_samples, n_features) and return (n_samples, n_outputs)."
            ) from exc
        n = probe.shape[0]
        ok = isinstance(out, torch.Tensor) and (
            tuple(out.shape) == (n, self.n_outputs_)
            or (self.n_outputs_ == 1 and tuple(out.shape) == (n,))
        )
        if not ok:
            got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise ValueError(
                f"The module returned {got} for {n} rows, but y has {self.n_outputs_} "
                f"output(s): it must return a tensor of shape ({n}, {self.n_outputs_}). "
                "Give its last layer n_outputs units (accept an n_outputs argument to "
                "have it filled in)."
            )

    def _schedule(self, n_rows: int | None) -> dict[str, Any]:
        """Resolve the ``"auto"`` training parameters from the number of rows."""
        small, tiny = n_rows is not None and n_rows <= 2000, n_rows is not None and n_rows < 1000
        auto = {
            "max_epochs": 1000 if tiny else 300,
            "batch_size": 32 if small else 64,
            "lr": 3e-3 if small else 1e-3,
            "n_iter_no_change": 50 if tiny else 20,
        }
        return {name: auto[name] if getattr(self, name) == "auto" else getattr(self, name)
                for name in auto}

    def _build_net(
        self, module: SculptModule, groups: dict[str, dict[str, Any]], n_rows: int | None
    ) -> SculptNet:
        schedule = self._schedule(n_rows)
        logger.debug("Training schedule for %s rows: %s", n_rows, schedule)
        criterion = nn.MSELoss if self.criterion is None else self.criterion
        criterion_kwargs = dict(groups["criterion"])
        if isinstance(criterion, type):
            check_kwargs_for("criterion", criterion, criterion_kwargs)
            criterion_kwargs.setdefault("reduction", "none")
        optimizer_kwargs = dict(groups["optimizer"])
        check_kwargs_for("optimizer", self.optimizer, optimizer_kwargs)
        for name in ("lr", "weight_decay"):
            if name in optimizer_kwargs:
                raise ValueError(
                    f"Set {name} with the estimator's own parameter {name}=..., not "
                    f"optimizer__{name}."
                )
        if "weight_decay" in _accepted_or_all(self.optimizer):
            optimizer_kwargs["weight_decay"] = self.weight_decay
        elif self.weight_decay:
            raise ValueError(
                f"{self.optimizer.__name__} has no weight_decay; leave weight_decay=0."
            )

        callbacks: list[tuple[str, Any]] = [("divergence_guard", DivergenceGuard())]
        if self.early_stopping:
            callbacks.append((
                "early_stopping",
                EarlyStopping(
                    monitor="valid_loss", patience=schedule["n_iter_no_change"],
                    threshold=self.tol,
                    threshold_mode="abs", lower_is_better=True, load_best=True,
                ),
            ))
        if self.progress_bar:
            callbacks.append(("progress_bar", ProgressBar()))
        for i, cb in enumerate(self.callbacks or []):
            callbacks.append(cb if isinstance(cb, tuple) else (f"user_{i}", cb))

        return SculptNet(
            module,
            criterion,
            sculpt_loss=self.loss,
            beta=self.beta,
            criterion_weight=self.criterion_weight,
            max_grad_norm=self.max_grad_norm,
            generator=torch.Generator(),
            optimizer=self.optimizer,
            lr=schedule["lr"],
            max_epochs=schedule["max_epochs"],
            batch_size=schedule["batch_size"],
            train_split=None,
            callbacks=callbacks,
            device=self.device,
            verbose=self.verbose,
            **{f"criterion__{k}": v for k, v in criterion_kwargs.items()},
            **{f"optimizer__{k}": v for k, v in optimizer_kwargs.items()},
        )

    def _disable_early_stopping(self) -> None:
        self.net_.callbacks_ = [
            (name, cb) for name, cb in self.net_.callbacks_ if name != "early_stopping"
        ]

    def _early_stopper(self) -> EarlyStopping | None:
        for name, cb in self.net_.callbacks_:
            if name == "early_stopping" and isinstance(cb, EarlyStopping):
                return cb
        return None

    def _split(self, data: TensorData) -> tuple[TensorData, TensorData | None]:
        if self._early_stopper() is None:
            return data, None
        n = len(data)
        n_valid = math.ceil(self.validation_fraction * n)
        if n_valid < 1 or n - n_valid < 1:
            raise ValueError(
                f"early_stopping holds out validation_fraction={self.validation_fraction} of "
                f"{n} rows, which leaves no training or validation rows; pass more rows or "
                "set early_stopping=False."
            )
        idx_train, idx_valid = train_test_split(
            np.arange(n), test_size=n_valid, random_state=self._seed
        )
        return (
            data.subset(torch.as_tensor(idx_train, device=data.X.device)),
            data.subset(torch.as_tensor(idx_valid, device=data.X.device)),
        )

    def _train(self, data: TensorData, epochs: int) -> None:
        train, valid = self._split(data)
        self.net_.train_split = None if valid is None else _HoldOut(valid)
        epochs_before = len(self.net_.history)
        self.net_.interrupted_ = False
        try:
            self.net_.partial_fit(train, epochs=epochs)
        except TrainingDiverged as exc:
            self._recover_from_divergence(exc)
        finally:
            self.net_.train_split = None
        self.n_iter_ += len(self.net_.history) - epochs_before
        if valid is not None and self.calibrate_risk:
            self._fit_risk_scale(valid)
        if self.net_.interrupted_:
            warnings.warn(
                f"Training was interrupted (KeyboardInterrupt) after {self.n_iter_} epoch(s); "
                "the estimator keeps the weights reached so far (the best ones when "
                "early_stopping is on). Call fit again to start over, or partial_fit to "
                "continue.",
                RuntimeWarning,
                stacklevel=3,
            )

    def _fit_risk_scale(self, valid: TensorData) -> None:
        """Maximum-likelihood factor of the risk on the held-out rows."""
        if len(valid) < _MIN_CALIBRATION_ROWS:
            self.risk_scale_ = np.ones(self.n_outputs_)
            return
        module = self.net_.module_
        was_training = module.training
        module.eval()
        try:
            with torch.no_grad():
                mean, std = self.net_.infer(valid.X)
        finally:
            module.train(was_training)
        z = ((valid.y - mean) / std).double().cpu().numpy()
        weight = None if valid.sample_weight is None else valid.sample_weight.double().cpu().numpy()
        self.risk_scale_ = fit_risk_scale(z, weight, self.distribution_)

    def _recover_from_divergence(self, exc: TrainingDiverged) -> None:
        stopper = self._early_stopper()
        best = getattr(stopper, "best_model_weights_", None) if stopper else None
        advice = (
            "Likely causes: a learning rate too high for this data, unscaled inputs "
            "(put a StandardScaler before the estimator) or extreme outliers in y. "
            "Lower lr, set max_grad_norm=1.0, or use loss='beta_nll'."
        )
        if best is None:
            raise ValueError(
                f"Training diverged: the {exc.name} became NaN or infinite at epoch "
                f"{exc.epoch}. {advice}"
            ) from exc
        self.net_.module_.load_state_dict(best)
        warnings.warn(
            f"Training diverged at epoch {exc.epoch} ({exc.name} became non-finite); the "
            f"best weights seen before (epoch {stopper.best_epoch_}) were restored. {advice}",
            RuntimeWarning,
            stacklevel=4,
        )

    # ----------------------------------------------------------- persistence
    def save_params(self, f: Any) -> None:
        """Save the trained weights and the target scaling, without any code.

        Unlike a pickle, the file holds only tensors, numbers and strings, so
        :meth:`load_params` reads it with ``torch.load(weights_only=True)``,
        which cannot run code. The architecture is not saved: load into an
        estimator made with the same parameters.

        Parameters
        ----------
        f : str, path or file object
            Where to write (``torch.save``).
        """
        check_is_fitted(self, "net_")
        names = getattr(self, "feature_names_in_", None)
        torch.save(
            {
                "format": _PARAMS_FORMAT,
                "module": {k: v.detach().cpu() for k, v in self.net_.module_.state_dict().items()},
                "y_loc": torch.as_tensor(self.y_loc_),
                "y_scale": torch.as_tensor(self.y_scale_),
                "risk_scale": torch.as_tensor(self.risk_scale_),
                "y_ndim": 1 if self._y_1d else 2,
                "n_features_in": int(self.n_features_in_),
                "feature_names_in": None if names is None else [str(n) for n in names],
                "n_iter": int(self.n_iter_),
            },
            f,
        )

    def load_params(self, f: Any) -> SculptRegressor:
        """Build the module from this estimator's parameters and load saved weights.

        Parameters
        ----------
        f : str, path or file object
            A file written by :meth:`save_params` (on any device; it is read
            onto this estimator's ``device``).

        Returns
        -------
        self : SculptRegressor
            A fitted estimator.
        """
        self._validate_params()
        self._check_device(continuing=False)
        state = torch.load(f, map_location="cpu", weights_only=True)
        if not isinstance(state, dict) or state.get("format") != _PARAMS_FORMAT:
            raise ValueError(
                "This file was not written by SculptRegressor.save_params (or by another "
                "version of it); save the weights again with save_params."
            )
        probe = np.zeros((2, state["n_features_in"]), dtype=np.float32)
        self._build(probe, state["y_loc"].numpy(), state["y_scale"].numpy(), state["y_ndim"])
        try:
            self.net_.module_.load_state_dict(state["module"])
        except RuntimeError as exc:
            del self.net_
            raise ValueError(
                "The saved weights do not fit the module built from this estimator's "
                "parameters; create the estimator with the same parameters (module, "
                f"module__*, n_layers, layer) as the one that saved them. ({exc})"
            ) from exc
        self.n_features_in_ = state["n_features_in"]
        if state["feature_names_in"] is not None:
            self.feature_names_in_ = np.asarray(state["feature_names_in"], dtype=object)
        self.risk_scale_ = state["risk_scale"].numpy()
        self.n_iter_ = state["n_iter"]
        return self

    # --------------------------------------------------------------- predict
    def _forward(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Means and standard deviations in y's units, each (n_samples, n_outputs)."""
        check_is_fitted(self, "net_")
        # float32 input stays float32 here: each batch is cast on its own, so
        # memory grows with the outputs, not with a float64 copy of X.
        X = _numeric_input(validate_data, self, X, reset=False, dtype=(np.float64, np.float32))
        module = self.net_.module_
        device = next(module.parameters()).device
        dtype = torch.float32 if device.type == "mps" else torch.float64
        state = {
            name: t.to(dtype) if t.is_floating_point() else t
            for name, t in list(module.named_parameters()) + list(module.named_buffers())
        }
        n = X.shape[0]
        mean = np.empty((n, self.n_outputs_), dtype=np.float64)
        std = np.empty((n, self.n_outputs_), dtype=np.float64)
        was_training = module.training
        module.eval()
        try:
            with torch.no_grad():
                for start in range(0, n, _PREDICT_BATCH):
                    stop = min(start + _PREDICT_BATCH, n)
                    xb = torch.tensor(X[start:stop], dtype=dtype, device=device)
                    m, s = torch.func.functional_call(module, state, (xb,), {"return_risk": True})
                    mean[start:stop] = m.reshape(stop - start, -1).cpu().numpy()
                    std[start:stop] = s.reshape(stop - start, -1).cpu().numpy()
        finally:
            module.train(was_training)
        mean *= self.y_scale_
        mean += self.y_loc_
        std *= self.y_scale_ * self.risk_scale_
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std))):
            bad = int(np.sum(~(np.isfinite(mean) & np.isfinite(std)).all(axis=1)))
            raise ValueError(
                f"The model produced NaN or infinite predictions for {bad} of {n} rows. "
                "Inputs far outside the training range, or a model damaged by a diverged "
                "warm-started fit, cause this; check X and refit with warm_start=False."
            )
        return mean, std

    def _shape_output(self, a: np.ndarray) -> np.ndarray:
        return a[:, 0] if self._y_1d else a

    def predict(
        self, X: Any, return_risk: bool = False, return_std: bool = False
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Predict the mean and, on request, the risk.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features.
        return_risk : bool, default=False
            Also return the risk (predictive standard deviation).
        return_std : bool, default=False
            Same as ``return_risk``: the keyword of scikit-learn's Gaussian
            processes, used by MAPIE and scikit-optimize.

        Returns
        -------
        y_mean : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted means, in the shape of the ``y`` seen in ``fit``.
        y_std : ndarray, same shape as ``y_mean``
            Predictive standard deviation in the units of ``y``, positive.
            Only returned when ``return_risk`` or ``return_std`` is True.
        """
        mean, std = self._forward(X)
        if return_risk or return_std:
            return self._shape_output(mean), self._shape_output(std)
        return self._shape_output(mean)

    def predict_dist(self, X: Any) -> Any:
        """The predictive distribution of every row as a frozen scipy.stats object.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        scipy.stats frozen distribution
            Vectorised over rows (and outputs), in the shape of ``predict(X)``;
            ``.mean()`` and ``.std()`` equal ``predict(X, return_risk=True)``.
        """
        mean, std = self.predict(X, return_risk=True)
        return self.distribution_.scipy_distribution(mean, std)

    def predict_interval(
        self, X: Any, confidence_level: float = 0.9
    ) -> tuple[np.ndarray, np.ndarray]:
        """Central prediction interval of each row.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        confidence_level : float, default=0.9
            Probability mass inside the interval, strictly between 0 and 1.

        Returns
        -------
        lower, upper : ndarray in the shape of ``predict(X)``
        """
        level = _check_confidence_level(confidence_level)
        dist = self.predict_dist(X)
        return dist.ppf(0.5 - level / 2.0), dist.ppf(0.5 + level / 2.0)

    def predict_quantiles(self, X: Any, quantiles: Any) -> np.ndarray:
        """Quantiles of each row's predictive distribution.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        quantiles : float or array-like of shape (n_quantiles,)
            Levels, each strictly between 0 and 1.

        Returns
        -------
        ndarray of shape (n_samples, n_quantiles) or (n_samples, n_outputs, n_quantiles)
            3-D when ``y`` was 2-D in ``fit``, as ``RecalibratedRegressor.predict_quantiles``.
        """
        levels = np.atleast_1d(np.asarray(quantiles, dtype=np.float64))
        if levels.ndim != 1 or levels.size == 0 or not np.all((levels > 0) & (levels < 1)):
            raise ValueError(
                "quantiles must be a level or a 1-D list of levels strictly between 0 and 1 "
                f"(e.g. [0.05, 0.5, 0.95]); got {quantiles!r}."
            )
        mean, std = self.predict(X, return_risk=True)
        standard = self.distribution_.scipy_distribution(0.0, 1.0).ppf(levels)
        return mean[..., None] + std[..., None] * standard

    def sample(
        self, X: Any, n_samples: int = 1, random_state: int | np.random.RandomState | None = None
    ) -> np.ndarray:
        """Draw labels from the predictive distribution.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples_X, n_features)
        n_samples : int, default=1
            Draws per row.
        random_state : int, RandomState instance or None, default=None
            Seed of the draws.

        Returns
        -------
        ndarray of shape (n_samples_X, n_samples) or (n_samples_X, n_outputs, n_samples)
            As scikit-learn's ``GaussianProcessRegressor.sample_y``.
        """
        if isinstance(n_samples, bool) or not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}.")
        dist = self.predict_dist(X)
        rng = check_random_state(random_state)
        draws = dist.rvs(size=(n_samples, *dist.mean().shape), random_state=rng)
        return np.moveaxis(draws, 0, -1)


class _HoldOut:
    """skorch ``train_split`` that returns a fixed validation set."""

    def __init__(self, valid: TensorData) -> None:
        self.valid = valid

    def __call__(self, dataset: TensorData, y: Any = None, **fit_params: Any) -> tuple:
        return dataset, self.valid


#: Advice appended to scikit-learn's input-validation errors, by what they say.
_INPUT_ADVICE = (
    (("could not convert", "Unable to convert"),
     "SculptRegressor needs numeric X and y: encode categorical or text feature columns "
     "first, e.g. with OneHotEncoder or OrdinalEncoder in a ColumnTransformer."),
    (("contains NaN", "contains infinity"),
     "Remove or impute those values first: a SimpleImputer in a Pipeline for X, dropping "
     "the rows for y."),
    (("dim 3", "dim 4", "dim 5"),
     "X must be 2-D (n_samples, n_features); flatten extra axes, e.g. X.reshape(len(X), -1)."),
    (("features, but", "feature names should match"),
     "Pass the same columns as in fit, in the same order."),
    (("inconsistent numbers of samples",),
     "X, y and sample_weight need one row per sample."),
    (("0 sample(s)", "1 sample(s)"),
     "fit needs at least 2 rows (and a validation row when early_stopping=True)."),
)


def _numeric_input(validate: Any, *args: Any, **kwargs: Any) -> Any:
    """scikit-learn's input validation, with advice on what to do appended."""
    try:
        return validate(*args, **kwargs)
    except ValueError as exc:
        message = str(exc)
        for needles, advice in _INPUT_ADVICE:
            if any(needle in message for needle in needles):
                raise ValueError(f"{message.rstrip()} {advice}") from exc
        raise


def _accepted_or_all(factory: Any) -> set[str]:
    accepted = accepted_kwargs(factory)
    return {"n_features", "n_outputs", "weight_decay"} if accepted is None else accepted
