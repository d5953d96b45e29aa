"""A dropout layer whose mask costs a quarter of the random numbers on the CPU.

``torch.nn.Dropout`` draws one Bernoulli variate per element, and on the CPU
that generator is slow: in the built-in TabM (k=16, ``d_block=128``, batch 32)
its two dropout layers took about a fifth of a training step, more than the
matrix products of a block (``benchmarks/step_speed.py``). :class:`BitDropout`
draws one 64-bit random integer per four elements instead and compares each
16-bit quarter with a threshold: the same layer, up to ``p`` being rounded to a
multiple of ``1 / 65536``, with the mask from the same seeded generator. On any
other device (a GPU draws Bernoulli masks in a fused kernel) it is
``nn.Dropout``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["BitDropout", "use_bit_dropout"]

#: Distinct values of a 16-bit quarter of a random 64-bit integer.
_LEVELS = 1 << 16


class BitDropout(nn.Dropout):
    """``nn.Dropout`` with a mask drawn from 16 random bits per element on the CPU.

    An element is dropped with probability ``p_eff = round(p * 65536) / 65536``
    (``p`` to within ``7.7e-6``) and the kept ones are scaled by
    ``1 / (1 - p_eff)``, so the output's expectation is the input, exactly as
    :class:`torch.nn.Dropout`. Each element reads its own 16 bits of
    ``torch.randint`` output (the global, seedable generator), so masks are
    independent across elements and reproducible with ``torch.manual_seed``.

    Parameters
    ----------
    p : float, default=0.5
        Probability of an element to be zeroed, in ``[0, 1)``.
    inplace : bool, default=False
        Accepted for ``nn.Dropout``'s signature; the CPU path always returns a
        new tensor.
    """

    def forward(self, x: Tensor) -> Tensor:
        """``x`` with a random ``p_eff`` of its elements zeroed, the rest rescaled."""
        if not self.training or self.p == 0.0 or x.device.type != "cpu" or x.numel() == 0:
            return F.dropout(x, self.p, self.training, self.inplace)
        threshold = round(self.p * _LEVELS)
        if threshold >= _LEVELS:  # p within 1 / 131072 of 1: drop everything, as nn.Dropout
            return x * 0.0
        n = x.numel()
        bits = torch.randint(-(2**63), 2**63 - 1, (-(-n // 4),), dtype=torch.int64)
        quarters = bits.view(torch.int16)[:n].view(x.shape)  # uniform on -32768 .. 32767
        keep = (quarters >= threshold - _LEVELS // 2).to(x.dtype)
        return x * keep.mul_(_LEVELS / (_LEVELS - threshold))


def use_bit_dropout(module: nn.Module) -> nn.Module:
    """Replace every plain ``nn.Dropout`` inside ``module`` by a :class:`BitDropout`.

    Dropout has no parameters or buffers, so the state_dict is unchanged.
    Returns ``module`` (changed in place).
    """
    for name, child in module.named_children():
        if type(child) is nn.Dropout:
            setattr(module, name, BitDropout(child.p, child.inplace))
        else:
            use_bit_dropout(child)
    return module
