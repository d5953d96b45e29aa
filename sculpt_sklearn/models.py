"""The built-in tabular modules: :class:`TabMModule` (an efficient ensemble) and :class:`MLP`.

:class:`TabMModule` wraps ``tabm.TabM`` (Gorishniy et al., ICLR 2025) over
numerical embeddings from ``rtdl_num_embeddings``; its output carries a member
axis, ``(batch, k, n_outputs)``, so ``sculpt.Wrapper`` gives it one risk head
per member. :func:`compute_bins` makes the bins of its piecewise-linear
embeddings from the training rows.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import rtdl_num_embeddings
import tabm
import torch
from torch import Tensor, nn

from ._dropout import BitDropout, use_bit_dropout

__all__ = ["MLP", "TabMModule", "compute_bins"]

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
}


class MLP(nn.Module):
    """A plain feed-forward network ending in an ``nn.Linear``.

    Its parameters are set through the estimator with the ``module__``
    prefix, e.g. ``SculptRegressor(module__hidden_layer_sizes=(128, 128))``.
    ``n_features`` and ``n_outputs`` are filled in by the estimator.

    Parameters
    ----------
    n_features : int
        Input width.
    n_outputs : int, default=1
        Output width.
    hidden_layer_sizes : sequence of int, default=(64, 64)
        Width of each hidden layer, as in scikit-learn's ``MLPRegressor``.
    activation : {"relu", "gelu", "silu", "tanh", "elu"}, default="relu"
        Non-linearity after each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden activation
        (:class:`~sculpt_sklearn._dropout.BitDropout`: ``nn.Dropout`` with a
        cheaper mask on the CPU, ``p`` rounded to a multiple of 1/65536).
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int = 1,
        hidden_layer_sizes: Sequence[int] = (64, 64),
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(_ACTIVATIONS)}; got {activation!r}."
            )
        if isinstance(hidden_layer_sizes, int):
            hidden_layer_sizes = (hidden_layer_sizes,)
        sizes = [int(h) for h in hidden_layer_sizes]
        if any(h < 1 for h in sizes):
            raise ValueError(
                f"hidden_layer_sizes must hold positive integers; got {hidden_layer_sizes!r}."
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1); got {dropout!r}.")
        layers: list[nn.Module] = []
        width = n_features
        for h in sizes:
            layers += [nn.Linear(width, h), _ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(BitDropout(dropout))
            width = h
        layers.append(nn.Linear(width, n_outputs))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Predictions of shape ``(n, n_outputs)``."""
        return self.layers(x)


# -- TabM -------------------------------------------------------------------------

_EMBEDDINGS = ("piecewise", "periodic", "none")
_ARCH_TYPES = ("tabm", "tabm-mini", "tabm-packed")
# rtdl_num_embeddings warns for a feature with a single bin (2 edges); compute_bins
# gives exactly that to constant and two-valued columns on purpose.
_ONE_BIN_WARNING = r"The \d+-th feature has just two bin edges"
_MAX_QUANTILE_ROWS = 2**24


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}.")
    return int(value)


def _column_bins(column: Tensor, n_bins: int) -> Tensor:
    """Quantile bin edges of one column (float64, finite values only), at least 2 edges."""
    column = column[torch.isfinite(column)]
    if column.numel() == 0:
        return torch.tensor([-0.5, 0.5], dtype=torch.float64)
    low, high = column.min(), column.max()
    if not high > low:  # constant: one bin of width one around the value
        return torch.stack([low - 0.5, low + 0.5])
    if column.numel() > _MAX_QUANTILE_ROWS:  # torch.quantile's limit: an even subsample
        column = column[:: -(-column.numel() // _MAX_QUANTILE_ROWS)]
    n_bins = min(n_bins, column.numel() - 1)
    if n_bins < 2:
        return torch.stack([low, high])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_ONE_BIN_WARNING)
        return rtdl_num_embeddings.compute_bins(column[:, None], n_bins)[0]


def compute_bins(x_num: Tensor | np.ndarray, n_bins: int = 48) -> list[Tensor]:
    """Bin edges of the piecewise-linear embeddings, from the training rows.

    Wraps ``rtdl_num_embeddings.compute_bins`` (quantile bins, duplicates
    removed) one column at a time so that small data never fails: ``n_bins``
    is capped by the number of rows minus one, NaN and infinite values are
    ignored, a column with two distinct values gets the edges ``[min, max]``
    and a constant column (or one with no finite value) the two edges
    ``[v - 0.5, v + 0.5]``.

    Parameters
    ----------
    x_num : Tensor or ndarray of shape (n_rows, n_num)
        The numeric training columns, as the module will see them (already
        scaled, if the data are scaled).
    n_bins : int, default=48
        The largest number of bins per column (at least 2).

    Returns
    -------
    list of Tensor
        One float32 tensor of strictly increasing edges per column, between
        2 and ``n_bins + 1`` long; pass it as ``TabMModule(..., bins=...)``.

    Examples
    --------
    >>> import numpy as np
    >>> bins = compute_bins(np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]]), n_bins=4)
    >>> [b.tolist() for b in bins]
    [[0.0, 1.0, 2.0], [0.5, 1.5]]
    """
    n_bins = _positive_int(n_bins, "n_bins")
    if n_bins < 2:
        raise ValueError(f"n_bins must be at least 2; got {n_bins}.")
    x = torch.as_tensor(np.asarray(x_num) if not isinstance(x_num, Tensor) else x_num)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(
            f"x_num must be a 2-D array of numeric columns with at least one row and one "
            f"column; got shape {tuple(x.shape)}."
        )
    x = x.detach().to(device="cpu", dtype=torch.float64)
    bins = []
    for j in range(x.shape[1]):
        edges = _column_bins(x[:, j], n_bins).to(torch.float32).unique()
        if edges.numel() < 2:  # distinct in float64, equal in float32
            edges = torch.stack([edges[0] - 0.5, edges[0] + 0.5])
        bins.append(edges)
    return bins


def _check_bins(bins: Any, n_num: int) -> list[Tensor]:
    if bins is None:
        raise ValueError(
            'embeddings="piecewise" needs the bin edges of the numeric columns: pass '
            "bins=compute_bins(x_train[:, :n_num]) (sculpt_sklearn.models.compute_bins), "
            'or choose embeddings="periodic" or "none".'
        )
    bins = [torch.as_tensor(np.asarray(b) if not isinstance(b, Tensor) else b,
                            dtype=torch.float32).detach().cpu() for b in bins]
    if len(bins) != n_num:
        raise ValueError(
            f"bins holds edges for {len(bins)} columns but there are {n_num} numeric "
            "columns (n_features - len(cat_cardinalities)); compute them on the numeric "
            "columns only, with compute_bins."
        )
    for j, b in enumerate(bins):
        if b.ndim != 1 or b.numel() < 2 or not torch.isfinite(b).all() or (b.diff() <= 0).any():
            raise ValueError(
                f"bins[{j}] must be a 1-D tensor of at least 2 finite, strictly increasing "
                f"edges; got {b.tolist()}. Use compute_bins, which always gives such edges."
            )
    return bins


class _OneHotAs(nn.Module):
    """tabm's one-hot encoding, returned in the floating dtype of the module.

    tabm's encoder returns integers, which a ``LinearEnsemble`` cannot multiply;
    the dtype follows a floating buffer, so ``.double()`` and a float64
    ``functional_call`` give float64 one-hot codes.
    """

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder
        self.register_buffer("dtype_probe", torch.zeros(()), persistent=False)

    def forward(self, x_cat: Tensor) -> Tensor:
        """One-hot codes ``(batch, sum(cardinalities))``, floating."""
        return self.encoder(x_cat).to(self.dtype_probe.dtype)


class TabMModule(nn.Module):
    """TabM, an efficient ensemble of ``k`` MLPs, over numerical embeddings.

    A thin adapter around ``tabm.TabM.make`` that takes one float matrix: the
    first ``n_features - len(cat_cardinalities)`` columns are numeric, the
    last ``len(cat_cardinalities)`` hold integer category codes stored as
    floats. Numeric columns go through piecewise-linear or periodic
    embeddings (``rtdl_num_embeddings``), categorical ones through TabM's
    one-hot encoding. The output layer is tabm's ``LinearEnsemble``
    (``self.tabm.output``), so ``sculpt.Wrapper`` finds it and gives each
    member its own risk head.

    Parameters
    ----------
    n_features : int
        Input width: numeric columns first, then the categorical ones.
    n_outputs : int, default=1
        Outputs per member.
    cat_cardinalities : sequence of int, default=()
        Number of categories of each categorical column (the last columns of
        ``x``); column ``i`` holds codes ``0 .. cat_cardinalities[i] - 1``.
    k : int, default=16
        Number of ensemble members.
    d_block : int, default=128
        Width of the blocks.
    n_blocks : int, default=2
        Number of blocks.
    dropout : float, default=0.1
        Dropout after each block. tabm's ``nn.Dropout`` layers are replaced by
        :class:`~sculpt_sklearn._dropout.BitDropout` (the same layer, its mask
        drawn from a quarter of the random numbers on the CPU; ``p`` rounded to
        a multiple of 1/65536).
    embeddings : {"piecewise", "periodic", "none"}, default="piecewise"
        Numerical embeddings: ``PiecewiseLinearEmbeddings(bins, d_embedding,
        activation=False, version="B")`` (TabM's recipe; needs ``bins``),
        ``PeriodicEmbeddings(n_num, d_embedding, lite=False)``, or none.
        Ignored when there is no numeric column.
    n_bins : int, default=48
        The number of bins the estimator passes to :func:`compute_bins`; the
        module itself only stores it (the edges come in ``bins``).
    d_embedding : int, default=16
        Embedding width per numeric column.
    bins : list of Tensor, optional
        Bin edges per numeric column, from :func:`compute_bins`; required for
        ``embeddings="piecewise"`` with numeric columns.
    arch_type : {"tabm", "tabm-mini", "tabm-packed"}, default="tabm"
        TabM's variant.
    mixed_precision : bool, default=False
        In training on the CPU, run the embeddings and the blocks under
        ``torch.autocast(dtype=torch.bfloat16)`` (their matrix products in
        bfloat16, which CPUs with AVX512-BF16 or AMX run about 1.4x as fast);
        the output layer, the risk heads and everything at prediction time stay
        in full precision, so the means keep their float32 resolution.

    Attributes
    ----------
    tabm : tabm.TabM
        The network.
    n_num, n_cat : int
        Number of numeric and categorical columns.
    bins : list of Tensor or None
        The bin edges used (float32), or None without piecewise embeddings.

    Notes
    -----
    Shapes: input ``(batch, n_features)`` float32 or float64; output
    ``(batch, k, n_outputs)`` in the module's dtype (the input is cast to it).

    The bins are constructor arguments: the state_dict holds the encoding
    derived from them (``...num_module.impl.weight`` and ``.bias``), so a
    module rebuilt with bins of the same lengths and loaded from a state_dict
    computes exactly the saved encoding; to rebuild it, keep the bins (or the
    constructor arguments) alongside the state_dict.

    Examples
    --------
    >>> import torch
    >>> x = torch.cat([torch.randn(64, 3), torch.randint(0, 4, (64, 1)).float()], dim=1)
    >>> model = TabMModule(4, cat_cardinalities=[4], k=8, bins=compute_bins(x[:, :3]))
    >>> tuple(model(x).shape)
    (64, 8, 1)
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int = 1,
        *,
        cat_cardinalities: Sequence[int] = (),
        k: int = 16,
        d_block: int = 128,
        n_blocks: int = 2,
        dropout: float = 0.1,
        embeddings: str = "piecewise",
        n_bins: int = 48,
        d_embedding: int = 16,
        bins: list[Tensor] | None = None,
        arch_type: str = "tabm",
        mixed_precision: bool = False,
    ) -> None:
        super().__init__()
        n_features = _positive_int(n_features, "n_features")
        n_outputs = _positive_int(n_outputs, "n_outputs")
        if isinstance(cat_cardinalities, (int, np.integer)):
            raise ValueError(
                "cat_cardinalities is a sequence with the number of categories of each "
                f"categorical column; got the single number {cat_cardinalities!r}."
            )
        cards = [_positive_int(c, "each of cat_cardinalities") for c in cat_cardinalities]
        if len(cards) > n_features:
            raise ValueError(
                f"cat_cardinalities names {len(cards)} categorical columns but the input has "
                f"only n_features={n_features} columns."
            )
        k = _positive_int(k, "k")
        d_block = _positive_int(d_block, "d_block")
        n_blocks = _positive_int(n_blocks, "n_blocks")
        self.n_bins = _positive_int(n_bins, "n_bins")
        d_embedding = _positive_int(d_embedding, "d_embedding")
        if isinstance(dropout, bool) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be a float in [0, 1); got {dropout!r}.")
        if embeddings not in _EMBEDDINGS:
            raise ValueError(f"embeddings must be one of {list(_EMBEDDINGS)}; got {embeddings!r}.")
        if arch_type not in _ARCH_TYPES:
            raise ValueError(f"arch_type must be one of {list(_ARCH_TYPES)}; got {arch_type!r}.")
        self.n_features = n_features
        self.mixed_precision = bool(mixed_precision)
        self.n_cat = len(cards)
        self.n_num = n_features - self.n_cat
        self.embeddings = embeddings
        self.bins: list[Tensor] | None = None
        num_embeddings: nn.Module | None = None
        if self.n_num > 0 and embeddings == "piecewise":
            self.bins = _check_bins(bins, self.n_num)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=_ONE_BIN_WARNING)
                num_embeddings = rtdl_num_embeddings.PiecewiseLinearEmbeddings(
                    self.bins, d_embedding, activation=False, version="B"
                )
        elif self.n_num > 0 and embeddings == "periodic":
            num_embeddings = rtdl_num_embeddings.PeriodicEmbeddings(
                self.n_num, d_embedding, lite=False
            )
        self.tabm = tabm.TabM.make(
            n_num_features=self.n_num,
            cat_cardinalities=cards or None,
            d_out=n_outputs,
            num_embeddings=num_embeddings,
            k=k,
            d_block=d_block,
            n_blocks=n_blocks,
            dropout=float(dropout),
            arch_type=arch_type,
        )
        if self.tabm.cat_module is not None:
            self.tabm.cat_module = _OneHotAs(self.tabm.cat_module)
        use_bit_dropout(self.tabm)  # the same dropout, its mask 2x cheaper on the CPU
        self.register_buffer(
            "cat_cardinalities", torch.tensor(cards, dtype=torch.long), persistent=False
        )

    @property
    def k(self) -> int:
        """Number of ensemble members."""
        return self.tabm.k

    def forward(self, x: Tensor) -> Tensor:
        """Members' predictions ``(batch, k, n_outputs)`` from ``x`` ``(batch, n_features)``."""
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(
                f"TabMModule expects x of shape (batch, {self.n_features}) "
                f"({self.n_num} numeric columns, then {self.n_cat} categorical codes); "
                f"got {tuple(x.shape)}."
            )
        x = x.to(self.tabm.output.weight.dtype)
        x_num = x[:, : self.n_num] if self.n_num else None
        x_cat = None
        if self.n_cat:
            x_cat = x[:, self.n_num:].long()
            bad = (x_cat < 0) | (x_cat >= self.cat_cardinalities)
            if bool(bad.any()):
                column = int(bad.any(dim=0).nonzero()[0, 0])
                raise ValueError(
                    f"Categorical column {self.n_num + column} of x holds a code outside "
                    f"0..{int(self.cat_cardinalities[column]) - 1} (or NaN); encode the "
                    "categories as integers 0..cardinality - 1, with unseen ones mapped "
                    "to a code of their own."
                )
        if self.mixed_precision and self.training and x.device.type == "cpu":
            with torch.autocast("cpu", dtype=torch.bfloat16):
                features = self._features(x_num, x_cat)
            return self.tabm.output(features.float())
        return self.tabm(x_num, x_cat)

    def _features(self, x_num: Tensor | None, x_cat: Tensor | None) -> Tensor:
        """``tabm.TabM.forward`` up to its output layer (2-D inputs): ``(batch, k, d_block)``."""
        parts = []
        if x_num is not None:
            module = self.tabm.num_module
            parts.append(x_num if module is None else module(x_num))
        if x_cat is not None:
            parts.append(self.tabm.cat_module(x_cat))
        x = torch.column_stack([part.flatten(1, -1) for part in parts])
        return self.tabm.backbone(self.tabm.ensemble_view(x))
