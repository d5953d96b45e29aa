"""SculptRegressor: a scikit-learn regressor that also predicts its risk."""

from __future__ import annotations

import logging
import warnings
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from ._build import (
    MIN_RISK,
    build_net,
    configure_training,
    risk_head_depth,
    target_standardisation,
)
from ._data import TensorData, as_tensor
from ._device import DeviceConstraint, check_device
from ._inference import deduct_member_spread, mixture_prediction, resolve_predict_dtype
from ._input import (
    raw_table,
    target_2d,
    validate_fit_input,
    validate_input,
    validate_sample_weight,
    validate_validation_data,
)
from ._objectives import OBJECTIVES
from ._params import PrefixedParamsMixin
from ._persistence import read_params, write_params
from ._predictive import central_intervals as _central_intervals
from ._predictive import check_confidence_levels as _check_confidence_levels
from ._predictive import check_positive_target
from ._predictive import check_quantile_levels as _check_quantile_levels
from ._preprocess import fit_encoder
from ._resolve import Reference, resolve_params
from ._threads import torch_threads
from ._training import (
    draw_seed,
    fit_calibration,
    given_validation,
    stream_weight_unit,
    train_net,
    training_and_validation,
)
from .sculpt.distributions import SculptDistribution
from .sculpt.pool import Pool
from .sculpt.wrapper import SculptModule

__all__ = ["SculptRegressor"]

logger = logging.getLogger(__name__)

#: The fitted attributes scikit-learn's input validation sets in ``fit`` itself; a
#: call of fit that fails puts them back as they were.
_INPUT_SCHEMA = ("n_features_in_", "feature_names_in_")


class SculptRegressor(PrefixedParamsMixin, RegressorMixin, BaseEstimator):
    """Neural-network regressor that predicts a mean and a risk for every row.

    A PyTorch module is wrapped with :class:`sculpt_sklearn.sculpt.Wrapper`
    so that it also outputs a predictive standard deviation (the *risk*), and
    trained through skorch with a distribution loss. The target is
    standardised inside ``fit`` and means and standard deviations are mapped
    back to the units of ``y``.

    The default module is :class:`sculpt_sklearn.TabMModule`, an efficient
    ensemble (TabM) over piecewise-linear numerical embeddings with one risk
    head per member. It takes raw tables as they are: numeric columns are
    quantile-scaled inside, missing values get an indicator, categorical
    columns are found from the dtype (see ``categorical_features``), a
    numeric column with few distinct values is also given as a category
    (``max_discrete_levels``), and a category unseen in ``fit`` is treated
    as missing. On up to 2,000 rows two such networks train side by side,
    each on its own rows (``n_networks``). The members' spread is the
    epistemic uncertainty (:meth:`predict_uncertainty`). A user's module
    (or :class:`sculpt_sklearn.MLP`) gets the numeric array it was given:
    scaling is then the user's job (a
    :class:`~sklearn.preprocessing.StandardScaler` in a
    :class:`~sklearn.pipeline.Pipeline`), as for any neural network.

    Parameters
    ----------
    module : None, nn.Module class or nn.Module instance, default=None
        The network that predicts the mean. ``None`` uses
        :class:`sculpt_sklearn.TabMModule` on the encoded table (its
        ``k``, ``d_block``, ``n_blocks``, ``embeddings``, ``n_bins``, ... are
        ``module__*`` parameters). A class is built with the ``module__*``
        parameters; its input and output width arguments, when it has them,
        are filled in from the data (lazy layers work too). An instance is
        deep-copied at each ``fit`` and never trained in place. Its last
        ``nn.Linear`` (or ensemble linear layer, output ``(n, k, n_outputs)``)
        must produce the output (see ``layer``).
    categorical_features : "from_dtype", None or array-like, default="from_dtype"
        Which columns the built-in model encodes as categories, as in
        :class:`~sklearn.ensemble.HistGradientBoostingRegressor`:
        ``"from_dtype"`` (pandas ``category``, string and object columns),
        ``None``, column names, indices or a boolean mask. Only used with
        ``module=None``.
    max_discrete_levels : int, default=16
        A numeric column with at most this many distinct values in ``fit``
        is discrete: the built-in model gets its value both as a number and
        as a category (one-hot), so it can fit a level of its own for each
        value, as a tree does, and still places a value unseen in ``fit``
        by its number. 0 turns this off. Only used with ``module=None``.
    distribution : {"auto", "normal", "laplace", "studentt", "lognormal", "gamma"} or \
            sculpt class, default="auto"
        The output family (e.g. ``sculpt.StudentT.with_df(3)``); names in
        any case (``"Normal"``). ``"auto"``: Student-t with 5 degrees of
        freedom for the built-in model (its residuals are heavier-tailed
        than a Normal's on the benchmark; the inner-validation study in
        ``docs/benchmarks.md``), Normal for a user's module and ``MLP``;
        ``distribution_`` holds the family used. ``"lognormal"`` and ``"gamma"`` are for
        positive targets (every ``y > 0``, checked): the mean goes through a
        softplus link, the target is scaled by its geometric mean and never
        shifted, and intervals never go below 0; risk is still the
        predictive standard deviation in the units of ``y``.
    n_layers : int or "auto", default="auto"
        Number of layers of the risk head. ``"auto"``: 1 for an ensemble
        (each member's head is one linear map of the features its own output
        layer reads, as parameter-efficient as that layer), 2 for a plain
        module.
    risk_hidden : int, default=None
        Width of the risk head's hidden layers; default: the width of the
        features it reads (the input of ``layer``). Widen it when ``layer``
        reads a narrow input.
    layer : str, default=None
        Name of the ``nn.Linear`` whose input feeds the risk head; default:
        the module's last ``nn.Linear``.
    n_networks : int or "auto", default="auto"
        Networks trained side by side, each built afresh from ``module``
        with its own initial weights and risk head(s), and, with early
        stopping on a random hold-out, each holding out its own
        ``validation_fraction`` of the rows (disjoint where the rows allow)
        and training on the rest. Early stopping and ``calibrate_risk`` score
        every held-out row by the networks that held it out (out of fold);
        the prediction is the mixture of all their members (a deep ensemble,
        :class:`sculpt_sklearn.sculpt.Pool`), so their disagreement is part of
        the epistemic uncertainty. Each network costs as much as one. With
        ``X_val`` given, or without early stopping, every network trains on
        every row. ``"auto"``: 2 for the built-in model on at most 2,000 rows,
        else 1 (see "Defaults"). More than 1 needs ``module`` to be a class
        (or None), not an instance.
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
    criterion : nn.Module class or instance, default=None
        Base criterion for ``loss="sample"`` and ``criterion_weight``
        (``nn.MSELoss`` when None); a class is built with
        ``reduction="none"`` and the ``criterion__*`` parameters, an instance
        is used through a copy with ``reduction="none"`` so that
        ``sample_weight`` applies to it.
    criterion_weight : float, default=0.0
        Weight of the base criterion on the mean, added to the objective
        (the Sculpt seed's mode A).
    target_loc, target_scale : float or array-like of shape (n_outputs,), default=None
        Fix the target standardisation ``z = (y - target_loc) / target_scale``
        instead of computing it from the data (from the first chunk, for
        ``partial_fit``). Set both or neither; useful when streaming data
        whose first chunk is not representative.
    max_epochs : int or "auto", default="auto"
        Maximum number of passes over the training data (see "Defaults" below).
    batch_size : int or "auto", default="auto"
        Rows per gradient step (see "Defaults").
    lr : float or "auto", default="auto"
        Learning rate (see "Defaults").
    optimizer : torch optimizer class, default=torch.optim.AdamW
        Built with ``lr``, ``weight_decay`` and the ``optimizer__*`` parameters.
    weight_decay : float, default=0.0
        Decoupled weight decay (L2) of the optimizer.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training rows (or use the
        ``X_val``, ``y_val`` passed to :meth:`fit`), stop when the
        validation NLL has not improved by ``tol`` for ``n_iter_no_change``
        epochs, and restore the best weights.
    validation_fraction : float, default=0.1
        Share of rows held out for early stopping; unused when ``fit`` is
        given ``X_val``.
    calibrate_risk : bool, default=True
        After early stopping, rescale the risk by one factor per output,
        fitted by maximum likelihood on the held-out rows, or on ``X_val``
        when given, also with ``early_stopping=False`` (needs at least
        ``20`` of them; otherwise the factor stays 1). The network fits its
        variance to training residuals, which are smaller than residuals on
        new rows, so the raw risk tends to be over-confident. With
        ``distribution="auto"`` and the built-in model, the held-out rows
        (at least 200) also choose the Student-t's degrees of freedom, among
        3, 4, 5, 7, 10, 20 and 50, or the Normal (``distribution_``): the
        network trains with 5, but fitted to Gaussian noise a t with 5
        degrees of freedom reports 1.1 times its standard deviation.
    member_spread_correction : bool, default=True
        How ``predict_uncertainty`` (and ``return_risk``) split the total
        between the aleatoric and the epistemic part when the model has
        members (TabM, ``n_networks > 1``). Each member's risk head is fitted to
        its own residuals, ``(y - mu_k)**2``, which hold the noise, the mean's
        error and the member's own deviation from the members' mean; so the
        members' mean variance counts their spread a second time. True moves
        it: ``aleatoric**2 = mean(sigma_k**2) - var(mu_k)`` (floored at the
        risk's floor) and ``epistemic**2 = 2 * var(mu_k)``, the total
        unchanged. False: the plain law of total variance over the members
        (``mean(sigma_k**2)`` and ``var(mu_k)``).
    extrapolation_uncertainty : float, default=0.25
        Epistemic standard deviation the built-in model adds for a row
        outside the range of the numeric columns seen in ``fit``: this many
        standard deviations of the target (``y_scale_``) per robust standard
        deviation (IQR / 1.349) of a column that the row lies beyond its
        range (in quadrature over the columns; see
        ``preprocessor_.distance_beyond_range``). Far from its data a network
        extrapolates with confidence it has not earned (its members share
        most weights and agree there); this prior makes the epistemic part
        grow with the distance. 0 turns it off; rows inside the range are not
        affected. Only used with ``module=None``.
    n_iter_no_change : int or "auto", default="auto"
        Patience of early stopping, in epochs (see "Defaults").
    tol : float, default=1e-4
        Smallest improvement of the validation NLL that counts.
    max_grad_norm : float, default=None
        Clip the gradient norm to this value at each step when set.
    max_time : float, default=None
        A time budget: seconds of training (wall clock, from the first epoch
        of a call of ``fit`` or ``partial_fit``; encoding the input and
        building the net are not counted) after which training stops at the
        end of the current batch, with a
        :class:`~sklearn.exceptions.ConvergenceWarning`. The model keeps the
        best weights seen so far with early stopping (the weights of
        ``best_epoch_``), else the last ones. A fit that stops on time depends
        on the machine's speed, so ``random_state`` no longer makes it
        repeatable. None: no budget.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, the validation split, batch order and
        dropout; the global torch random state is left untouched.
    device : str or torch.device, default="cpu"
        Where to train and predict: ``"cpu"``, ``"cuda"`` (or ``"cuda:1"``),
        ``"mps"`` or ``"xpu"``. A fitted model predicts on the device of its
        weights.
    verbose : int, default=0
        ``1`` prints skorch's table of epochs.
    progress_bar : bool, default=False
        Show skorch's tqdm progress bar over the batches (needs tqdm).
    callbacks : list of skorch callbacks, default=None
        Extra callbacks, as ``[("name", callback), ...]`` or a list.
    warm_start : bool, default=False
        Continue from the previous fit's weights and target scaling; the
        training parameters as they are at that call take effect. A
        parameter that would change the network (``module``, ``module__*``,
        ``distribution``, ``n_layers``, ``layer``, ``risk_hidden``,
        ``n_networks``, ``categorical_features``, ``max_discrete_levels``, to or
        from ``loss="faithful"``) is refused with an error that names it;
        ``"auto"`` keeps what was fitted.
    n_threads : int or None, default=None
        torch threads of ``fit``, ``partial_fit`` and the predict verbs (set
        for the call, then put back). None: torch's own number
        (``torch.get_num_threads()``: ``OMP_NUM_THREADS`` when set, else the
        physical cores; a joblib worker of a parallel ``GridSearchCV`` gets
        its share of the cores); -1: every core the process may use; 1 pins one.
    predict_dtype : {"auto", "float64", "float32"}, default="auto"
        Dtype of the forward pass at prediction time. ``"auto"``: float64
        when the module runs in it (predictions then agree across batch
        sizes to 1e-12), else float32 (a module that casts its input with
        ``x.float()``). ``"float32"`` is about 2-3x faster.
    **kwargs
        ``module__*``, ``optimizer__*`` and ``criterion__*`` parameters.
        A module class whose constructor names its input width ``n_features``,
        ``in_features``, ``in_dim``, ``input_dim``, ``n_inputs``,
        ``input_size`` or ``d_in`` (and its output width ``n_outputs``,
        ``out_features``, ``out_dim``, ``output_dim``, ``output_size`` or
        ``d_out``) gets them filled in.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame with string column names.
    n_outputs_ : int
        Number of targets.
    distribution_ : SculptDistribution subclass
        The predictive family: the resolved ``distribution``, or for the
        built-in model's ``"auto"``, the Student-t (or Normal) the held-out
        rows chose (see ``calibrate_risk``).
    y_loc_, y_scale_ : ndarray of shape (n_outputs,)
        The target standardisation: ``y = y_loc_ + y_scale_ * z``.
    risk_scale_ : ndarray of shape (n_outputs,)
        Factor applied to the network's risk (see ``calibrate_risk``; ones
        when it is off or there were too few held-out rows).
    preprocessor_ : object
        The built-in model's fitted input encoder (``module=None`` only):
        ``preprocessor_.categorical_columns_`` lists the columns encoded as
        categories, ``discrete_columns_`` the numeric ones also given as
        categories (``max_discrete_levels``), ``cat_cardinalities_`` the
        numbers of codes of both, in that order.
    n_networks_ : int
        The resolved ``n_networks``.
    net_ : skorch.NeuralNet
        The trained skorch net.
    module_ : SculptModule or Pool
        The trained torch module (``net_.module_``): the wrapped module, or
        a :class:`~sculpt_sklearn.sculpt.Pool` of ``n_networks_`` of them.
    history_ : skorch.History
        Losses per epoch (``net_.history``).
    n_iter_ : int
        Number of epochs trained in total.
    best_epoch_ : int
        The epoch (1-based, numbered as in :attr:`history_`, so counting on
        across warm starts and ``partial_fit``) whose weights the model
        holds: early stopping's best epoch, which it restores (also after a
        diverged fit), else the last epoch trained.
    predict_dtype_ : str
        The resolved ``predict_dtype``.
    n_threads_ : int or None
        The torch threads the last call of ``fit`` or ``partial_fit`` ran with
        (``n_threads`` resolved); None after :meth:`load_params`.

    Notes
    -----
    **Defaults.** The ``"auto"`` values are one rule on the number of rows
    ``n`` passed to ``fit``, chosen on inner validation splits of the UCI
    regression benchmark (``docs/benchmarks.md``). The built-in model: two
    networks side by side up to 2,000 rows, one above; batch 32 up to 1,000
    rows, 64 up to 5,000, 128 up to 10,000, 256 above (with 8 members
    instead of 16 there); ``lr=2e-3``; patience 32 epochs up to 500 rows,
    else 16; at most 300 epochs. A user's module or the MLP: batch 32
    and ``lr=3e-3`` up to 2,000 rows (else 64 and 1e-3); patience 50 and up to
    1,000 epochs below 1,000 rows (else 20 and 300). ``partial_fit`` uses the
    rule of the largest data. The resolved values are in :attr:`net_`
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
        "distribution": [str, type],
        "n_layers": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "categorical_features": [None, StrOptions({"from_dtype"}), "array-like"],
        "max_discrete_levels": [Interval(Integral, 0, None, closed="left")],
        "risk_hidden": [None, Interval(Integral, 1, None, closed="left")],
        "layer": [None, str],
        "n_networks": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
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
        "member_spread_correction": ["boolean"],
        "extrapolation_uncertainty": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_grad_norm": [None, Interval(Real, 0, None, closed="neither")],
        "max_time": [None, Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "device": [DeviceConstraint()],
        "verbose": ["verbose"],
        "progress_bar": ["boolean"],
        "callbacks": [None, list],
        "warm_start": ["boolean"],
        "n_threads": [None, Options(Integral, {-1}),
                      Interval(Integral, 1, None, closed="left")],
        "predict_dtype": [StrOptions({"auto", "float64", "float32"})],
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
        distribution: str | type[SculptDistribution] = "auto",
        n_layers: int | str = "auto",
        categorical_features: Any = "from_dtype",
        max_discrete_levels: int = 16,
        risk_hidden: int | None = None,
        layer: str | None = None,
        n_networks: int | str = "auto",
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
        member_spread_correction: bool = True,
        extrapolation_uncertainty: float = 0.25,
        n_iter_no_change: int | str = "auto",
        tol: float = 1e-4,
        max_grad_norm: float | None = None,
        max_time: float | None = None,
        random_state: int | np.random.RandomState | None = None,
        device: str | torch.device = "cpu",
        verbose: int = 0,
        progress_bar: bool = False,
        callbacks: list | None = None,
        warm_start: bool = False,
        n_threads: int | None = None,
        predict_dtype: str = "auto",
        **kwargs: Any,
    ) -> None:
        self.module = module
        self.distribution = distribution
        self.n_layers = n_layers
        self.categorical_features = categorical_features
        self.max_discrete_levels = max_discrete_levels
        self.risk_hidden = risk_hidden
        self.layer = layer
        self.n_networks = n_networks
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
        self.member_spread_correction = member_spread_correction
        self.extrapolation_uncertainty = extrapolation_uncertainty
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.max_grad_norm = max_grad_norm
        self.max_time = max_time
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.progress_bar = progress_bar
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.n_threads = n_threads
        self.predict_dtype = predict_dtype
        self._prefixed_params = kwargs

    # ------------------------------------------------------------------ tags
    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        # The built-in model encodes raw tables (NaN, categories, strings) itself.
        tags.input_tags.allow_nan = self.module is None
        tags.input_tags.string = self.module is None
        tags.input_tags.categorical = self.module is None
        return tags

    # ------------------------------------------------------------- fitted views
    @property
    def module_(self) -> SculptModule | Pool:
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
    def fit(
        self, X: Any, y: Any, sample_weight: Any = None, *, X_val: Any = None, y_val: Any = None,
        sample_weight_val: Any = None,
    ) -> SculptRegressor:
        """Train the network on ``(X, y)``.

        With ``warm_start=True`` and a fitted model, training continues from
        the current weights and target scaling, with the parameters as they
        are now: ``max_epochs``, ``lr``, ``batch_size``, ``early_stopping``,
        ``n_iter_no_change``, ``calibrate_risk`` and the other training
        parameters changed with ``set_params`` take effect; a changed
        structure (see ``warm_start``) is refused. A call of ``fit`` that
        fails leaves a fitted estimator as it was.

        Validation rows you choose (``X_val``, ``y_val``), as in
        :meth:`sklearn.ensemble.HistGradientBoostingRegressor.fit`, replace the
        random hold-out: every row of ``X`` trains, and the given rows drive
        early stopping and ``calibrate_risk``. With ``early_stopping=False``
        they still calibrate the risk; a UserWarning says so when they would
        be used for nothing (``early_stopping=False`` and
        ``calibrate_risk=False``, or too few rows to calibrate on). A
        warm-started ``fit`` uses the rows of that call (or the random
        hold-out when none are given). ``best_epoch_`` is the epoch whose
        weights the model holds.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features: a raw table for the built-in model, numbers (cast to
            float32 once) for a user's module.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights of the loss. They are normalised to mean
            one over the training rows and over the validation rows, each on
            its own, so the validation loss is the weighted mean NLL.
        X_val : array-like or DataFrame of shape (n_val, n_features), default=None
            Validation features, checked as ``X`` is (the same columns; NaN
            and categories only with the built-in model) and encoded by the
            ``preprocessor_`` fitted on ``X`` alone. A user's module gets them
            as given: in a :class:`~sklearn.pipeline.Pipeline`, transform them
            like ``X`` with ``Pipeline(..., transform_input=["X_val"])``
            (metadata routing on; scikit-learn >= 1.6). With ``X_val``,
            ``validation_fraction`` is unused.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Validation targets, finite, with the outputs of ``y``. Pass it
            with ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Non-negative weights of the validation rows, normalised to mean
            one on their own. Only with ``X_val``.

        Returns
        -------
        self : SculptRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False,
                         validation=(X_val, y_val, sample_weight_val))

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> SculptRegressor:
        """One epoch over ``(X, y)``, continuing from the current weights.

        The first call sets up the network and fixes three things for the
        whole stream: the target standardisation (that chunk's mean and
        standard deviation, its geometric mean without a shift for the
        positive families, or ``target_loc`` and ``target_scale`` when set),
        the normaliser of ``sample_weight`` (that chunk's mean weight, 1
        without weights: a chunk weighted 100 then counts 100 times one
        weighted 1), and the ``"auto"`` schedule, which for a stream of
        unknown length is the large-data rule (``batch_size=64``,
        ``lr=1e-3``) whatever the size of the first chunk. Early stopping is
        not used here; it stays on for later calls of ``fit``, and there
        is no ``X_val`` (continue with ``fit(..., X_val=..., y_val=...)`` and
        ``warm_start=True`` to stop on chosen rows). Parameters changed with
        ``set_params`` between calls take effect.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : SculptRegressor
        """
        self._validate_params()
        return self._fit(X, y, sample_weight, incremental=True)

    def _fit(
        self, X: Any, y: Any, sample_weight: Any, *, incremental: bool,
        validation: tuple[Any, Any, Any] = (None, None, None),
    ) -> SculptRegressor:
        with torch_threads(self.n_threads) as n_threads:
            return self._fit_threads(X, y, sample_weight, incremental=incremental,
                                     validation=validation, n_threads=n_threads)

    def _fit_threads(
        self, X: Any, y: Any, sample_weight: Any, *, incremental: bool,
        validation: tuple[Any, Any, Any], n_threads: int,
    ) -> SculptRegressor:
        """Validate, encode, resolve, build, train, calibrate, assign.

        A call that fails leaves the estimator as it was (a continued net
        keeps the epochs it trained, as skorch's does).
        """
        continuing = hasattr(self, "net_") and (incremental or self.warm_start)
        check_device(self.device, self.net_.module_ if continuing else None)
        builtin = hasattr(self, "preprocessor_") if continuing else self.module is None
        schema = {k: self.__dict__[k] for k in _INPUT_SCHEMA if k in self.__dict__}
        try:
            # Validate (scikit-learn sets n_features_in_ and feature_names_in_ here).
            X, y = validate_fit_input(self, X, y, builtin=builtin, reset=not continuing,
                                      min_samples=1 if incremental else 2)
            y2d = target_2d(y)
            if continuing and y2d.shape[1] != self.n_outputs_:
                raise ValueError(
                    f"y has {y2d.shape[1]} output(s) but the model was fitted with "
                    f"{self.n_outputs_}; set warm_start=False to start over."
                )
            sample_weight = validate_sample_weight(sample_weight, X)
            given = validate_validation_data(self, *validation, n_outputs=y2d.shape[1],
                                             builtin=builtin)
            # Encode.
            if not builtin:
                preprocessor = None
            elif continuing:
                preprocessor = self.preprocessor_
            else:
                preprocessor = fit_encoder(X, self.categorical_features,
                                           self.max_discrete_levels, draw_seed(self.random_state))
            X = X if preprocessor is None else preprocessor.transform(X)
            # Resolve.
            resolved = resolve_params(
                self.get_params(deep=False), known_params=list(self._parameter_constraints),
                n_rows=None if incremental else X.shape[0], incremental=incremental,
                encoded=X, preprocessor=preprocessor,
                reference=self._reference("partial_fit" if incremental else "warm_start")
                if continuing else None,
            )
            check_positive_target(y2d, resolved.family, "y")
            if given is not None:
                check_positive_target(given[1], resolved.family, "y_val")
            # Build (or continue).
            if continuing:
                net, seed = self.net_, int(self._continuation_seeds.integers(2**31 - 1))
                y_loc, y_scale = self.y_loc_, self.y_scale_
                configure_training(net, resolved, self._resolved)
            else:
                y_loc, y_scale = target_standardisation(
                    y2d, sample_weight, self.target_loc, self.target_scale, resolved.family)
                seed = draw_seed(self.random_state)
                net = build_net(resolved, X[:2], n_outputs=y2d.shape[1], seed=seed)
            # Train.
            stream_unit = self.__dict__.get("_stream_weight_unit") if continuing else None
            data = TensorData(*(None if a is None else as_tensor(a, torch.float32, self.device)
                                for a in (X, (y2d - y_loc) / y_scale, sample_weight)))
            if incremental:
                stream_unit = stream_weight_unit(data.sample_weight) if stream_unit is None \
                    else stream_unit
                if data.sample_weight is not None:
                    data.sample_weight = data.sample_weight / stream_unit
                train, valid = data, None
            else:
                valid = None if given is None else given_validation(
                    preprocessor.transform(given[0]) if builtin else given[0],
                    (given[1] - y_loc) / y_scale, given[2], self.device,
                    early_stopping=self.early_stopping, calibrate_risk=self.calibrate_risk,
                )
                train, valid = training_and_validation(
                    data, valid, early_stopping=self.early_stopping,
                    fraction=self.validation_fraction, seed=self._seed if continuing else seed,
                    n_networks=resolved.n_networks,
                )
            outcome = train_net(net, train, valid,
                                epochs=1 if incremental else resolved.schedule["max_epochs"],
                                stop_early=resolved.use_validation, seed=seed,
                                device=self.device)
            # Calibrate.
            if valid is not None and self.calibrate_risk:
                risk_scale, family = fit_calibration(net, valid, resolved.family, y2d.shape[1],
                                                     choose_shape=resolved.choose_shape)
            elif continuing:
                risk_scale, family = self.risk_scale_, self.distribution_
            else:
                risk_scale, family = np.ones(y2d.shape[1]), resolved.family
        except BaseException:
            for name in _INPUT_SCHEMA:
                self.__dict__.pop(name, None)
            self.__dict__.update(schema)
            raise
        # Assign.
        self._set_fitted(
            net_=net, _resolved=resolved, preprocessor_=preprocessor,
            distribution_=family, n_networks_=resolved.n_networks,
            n_outputs_=y2d.shape[1], _y_1d=self._y_1d if continuing else np.ndim(y) == 1,
            y_loc_=np.asarray(y_loc, dtype=np.float64),
            y_scale_=np.asarray(y_scale, dtype=np.float64),
            risk_scale_=risk_scale,
            n_iter_=(self.n_iter_ if continuing else 0) + outcome.epochs,
            best_epoch_=outcome.best_epoch,
            predict_dtype_=resolve_predict_dtype(net.module_, X[:2], self.predict_dtype),
            _seed=self._seed if continuing else seed,
            _continuation_seeds=(self._continuation_seeds if continuing
                                 else np.random.default_rng(seed)),
            _stream_weight_unit=stream_unit, n_threads_=n_threads,
        )
        if outcome.out_of_time:
            warnings.warn(
                f"Training stopped at max_time={resolved.max_time} s, after {outcome.epochs} "
                f"epoch(s) of this call, before it converged; the model holds the weights "
                f"of epoch {self.best_epoch_}"
                + (" (the best on the validation rows)." if resolved.use_validation else ".")
                + " Raise max_time (or set it to None) to train longer.",
                ConvergenceWarning,
                stacklevel=3,
            )
        if outcome.interrupted:
            warnings.warn(
                f"Training was interrupted (KeyboardInterrupt) after {self.n_iter_} epoch(s); "
                "the estimator keeps the weights reached so far (the best ones when "
                "early_stopping is on). Call fit again to start over, or partial_fit to "
                "continue.",
                RuntimeWarning,
                stacklevel=3,
            )
        return self

    def _set_fitted(self, **state: Any) -> None:
        """The one place the fitted attributes are set (``fit``, ``partial_fit``, ``load_params``).

        ``preprocessor_`` is removed when it is None (a user's module): every
        verb branches on whether it is there.
        """
        for name, value in state.items():
            if value is None and name in ("preprocessor_", "feature_names_in_",
                                          "_stream_weight_unit"):
                self.__dict__.pop(name, None)
            else:
                setattr(self, name, value)

    def _reference(self, source: str) -> Reference:
        """What the fitted model is, for a call that continues it."""
        return self._resolved.reference(source, n_layers=risk_head_depth(self.net_.module_))

    def __sklearn_is_fitted__(self) -> bool:
        """Whether the estimator holds a trained net (``fit``, ``partial_fit`` or ``load_params``)."""
        return hasattr(self, "net_")

    def _preprocess_X(self, X: Any) -> np.ndarray:
        """The one input path of a fitted model: checked against ``fit``, then encoded.

        It branches on fitted state: the built-in model's ``preprocessor_``
        (a raw table, encoded), else a user's module (a numeric array, as given).
        """
        check_is_fitted(self)
        if hasattr(self, "preprocessor_"):
            return self.preprocessor_.transform(raw_table(self, X, reset=False))
        # float32 input stays float32 here: each batch is cast on its own, so
        # memory grows with the outputs, not with a float64 copy of X.
        return validate_input(validate_data, self, X, reset=False,
                              dtype=(np.float64, np.float32))

    # ----------------------------------------------------------- persistence
    def save_params(self, f: Any) -> None:
        """Save the trained weights and what they mean, without any code.

        Unlike a pickle, the file holds only tensors, numbers and strings, so
        :meth:`load_params` reads it with ``torch.load(weights_only=True)``,
        which cannot run code. It records the output family (with Student-t's
        ``df``), the objective, the target scaling and the built-in model's
        input encoder (as its fitted arrays); the architecture is not saved:
        load into an estimator made with the same parameters.

        Parameters
        ----------
        f : str, path or file object
            Where to write (``torch.save``).
        """
        check_is_fitted(self)
        write_params(f, self)

    def load_params(self, f: Any) -> SculptRegressor:
        """Build the module from this estimator's parameters and load saved weights.

        With ``distribution="auto"`` the family is the file's (the one it was
        trained with), as ``n_networks="auto"`` takes the file's number of
        networks; a family named here must match the file's. It is all or
        nothing: the file and the parameters are checked and the weights
        loaded into a new net before any attribute of the estimator changes,
        so a load that fails leaves the estimator as it was.

        Parameters
        ----------
        f : str, path or file object
            A file written by :meth:`save_params` (on any device; it is read
            onto this estimator's ``device``).

        Returns
        -------
        self : SculptRegressor
            A fitted estimator.

        Raises
        ------
        ValueError
            If the file was trained for another distribution or objective, or
            its weights do not fit the module these parameters build.
        """
        self._validate_params()
        check_device(self.device)
        saved = read_params(f)
        resolved = resolve_params(
            self.get_params(deep=False), known_params=list(self._parameter_constraints),
            n_rows=None, incremental=False, reference=saved.reference,
        )
        seed = draw_seed(self.random_state)
        probe = np.zeros((2, saved.input_width), dtype=np.float32)
        net = build_net(resolved, probe, n_outputs=len(saved.y_loc), seed=seed)
        try:
            net.module_.load_state_dict(saved.weights)
        except RuntimeError as exc:
            raise ValueError(
                "The saved weights do not fit the module built from this estimator's "
                "parameters; create the estimator with the same parameters (module, "
                f"module__*, n_layers, layer) as the one that saved them. ({exc})"
            ) from exc
        self._set_fitted(
            net_=net, _resolved=resolved, preprocessor_=saved.preprocessor,
            distribution_=saved.predictive_family or resolved.family,
            n_networks_=resolved.n_networks,
            n_features_in_=saved.n_features_in, feature_names_in_=saved.feature_names_in,
            n_outputs_=len(saved.y_loc), _y_1d=saved.y_1d, y_loc_=saved.y_loc,
            y_scale_=saved.y_scale, risk_scale_=saved.risk_scale, n_iter_=saved.n_iter,
            best_epoch_=saved.best_epoch, predict_dtype_=saved.predict_dtype, _seed=seed,
            _continuation_seeds=np.random.default_rng(seed), _stream_weight_unit=None,
            n_threads_=None,
        )
        return self

    # --------------------------------------------------------------- predict
    def _moments(self, X: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean, aleatoric and epistemic std in y's units, each (n_samples, n_outputs)."""
        X = self._preprocess_X(X)
        with torch_threads(self.n_threads):
            mean, aleatoric, epistemic = mixture_prediction(
                self.net_.module_, X, self.predict_dtype_, self.n_outputs_
            )
        if self._resolved.member_spread_correction:
            aleatoric, epistemic = deduct_member_spread(aleatoric, epistemic, MIN_RISK)
        mean *= self.y_scale_
        mean += self.y_loc_
        aleatoric *= self.y_scale_ * self.risk_scale_
        epistemic *= self.y_scale_ * self.risk_scale_
        prior = self._resolved.extrapolation_uncertainty
        if prior and hasattr(self, "preprocessor_"):
            beyond = prior * self.preprocessor_.distance_beyond_range(X)[:, None] * self.y_scale_
            epistemic = np.sqrt(epistemic**2 + beyond**2)
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(aleatoric))
                and np.all(np.isfinite(epistemic))):
            bad = int(np.sum(~(np.isfinite(mean) & np.isfinite(aleatoric)).all(axis=1)))
            raise ValueError(
                f"The model produced NaN or infinite predictions for {bad} of {len(X)} rows. "
                "Inputs far outside the training range, or a model damaged by a diverged "
                "warm-started fit, cause this; check X and refit with warm_start=False."
            )
        return mean, aleatoric, epistemic

    def _shape_output(self, a: np.ndarray) -> np.ndarray:
        return a[:, 0] if self._y_1d else a

    def predict(
        self, X: Any, return_risk: bool = False, return_std: bool = False
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Predict the mean and, on request, the risk or the total uncertainty.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features.
        return_risk : bool, default=False
            Also return the risk: the **aleatoric** standard deviation, the
            label's own noise as the model sees it.
        return_std : bool, default=False
            Also return the **total** predictive standard deviation
            (aleatoric and epistemic, ``sqrt(risk**2 + epistemic**2)``): the
            keyword of scikit-learn's Gaussian processes, used by MAPIE and
            scikit-optimize. For a single-member model it equals the risk.

        Returns
        -------
        y_mean : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted means, in the shape of the ``y`` seen in ``fit``.
        y_risk : ndarray, same shape as ``y_mean``
            The aleatoric standard deviation in the units of ``y``, positive.
            Only returned when ``return_risk`` is True.
        y_std : ndarray, same shape as ``y_mean``
            The total predictive standard deviation. Only returned when
            ``return_std`` is True (after ``y_risk`` when both are asked).
        """
        mean, aleatoric, epistemic = self._moments(X)
        out = [self._shape_output(mean)]
        if return_risk:
            out.append(self._shape_output(aleatoric))
        if return_std:
            out.append(self._shape_output(np.sqrt(aleatoric**2 + epistemic**2)))
        return out[0] if len(out) == 1 else tuple(out)

    def predict_uncertainty(self, X: Any) -> Bunch:
        """The mean and the three uncertainties of every row, as standard deviations.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        Bunch
            ``mean``, ``aleatoric`` (the risk: the label's noise),
            ``epistemic`` (the spread of the ensemble members' means: what
            the model does not know; 0 for a single-member model) and
            ``total``, with ``total**2 == aleatoric**2 + epistemic**2`` (the
            law of total variance over the members). Each in the shape of
            ``predict(X)`` and the units of ``y``.
        """
        mean, aleatoric, epistemic = self._moments(X)
        return Bunch(
            mean=self._shape_output(mean),
            aleatoric=self._shape_output(aleatoric),
            epistemic=self._shape_output(epistemic),
            total=self._shape_output(np.sqrt(aleatoric**2 + epistemic**2)),
        )

    def predict_dist(self, X: Any) -> Any:
        """The predictive distribution of every row as a frozen scipy.stats object.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        scipy.stats frozen distribution
            Vectorised over rows (and outputs), in the shape of ``predict(X)``;
            ``.mean()`` and ``.std()`` equal ``predict(X, return_std=True)``
            (the total standard deviation, moment-matched to the family).
        """
        mean, std = self.predict(X, return_std=True)
        return self.distribution_.scipy_distribution(mean, std)

    def predict_interval(
        self, X: Any, confidence_level: float | Any = 0.9
    ) -> tuple[np.ndarray, np.ndarray]:
        """Central prediction interval of each row, at one or several levels.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        confidence_level : float or array-like of shape (n_levels,), default=0.9
            Probability mass inside the interval, strictly between 0 and 1;
            or a 1-D list of such levels, e.g. ``[0.5, 0.8, 0.9]``.

        Returns
        -------
        lower, upper : ndarray
            For a float ``confidence_level``: in the shape of ``predict(X)``,
            ``(n_samples,)`` or ``(n_samples, n_outputs)``. For a list of
            levels: that shape plus a last axis of the levels in the order
            given, ``(n_samples, n_levels)`` or ``(n_samples, n_outputs,
            n_levels)``; ``lower[..., i]`` equals the one-level call at
            ``confidence_level[i]``.
        """
        levels = _check_confidence_levels(confidence_level)
        dist = self.predict_dist(X)
        return _central_intervals(
            lambda level: (dist.ppf(0.5 - level / 2.0), dist.ppf(0.5 + level / 2.0)), levels
        )

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
        levels = _check_quantile_levels(quantiles)
        mean, std = self.predict(X, return_std=True)
        return self.distribution_.scipy_distribution(mean[..., None], std[..., None]).ppf(levels)

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
