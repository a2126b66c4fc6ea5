"""Stochastic weight averaging and EMA (torch.optim.swa_utils): AveragedModel, SWALR, update_bn."""
import itertools
import math
import warnings
from copy import deepcopy

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..nn import Module
from .lr_scheduler import LRScheduler, _format_param
from .optimizer import _lerp_

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn", "get_ema_avg_fn",
           "get_swa_avg_fn"]


def _is_float(t):
    return t._data.dtype.kind in "fc"


def get_ema_multi_avg_fn(decay=0.999):
    """An in-place multi-tensor EMA: ``ema = ema.lerp(current, 1 - decay)``."""
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")

    def ema_update(ema_param_list, current_param_list, _):
        for ema, cur in zip(ema_param_list, current_param_list):
            if _is_float(ema):
                _lerp_(ema._data, cur._data, 1 - decay, np.empty_like(ema._data))
            else:
                ema._data[...] = ema._data * decay + cur._data * (1 - decay)
    return ema_update


def get_swa_multi_avg_fn():
    """An in-place multi-tensor running mean: ``avg = avg.lerp(current, 1 / (n + 1))``."""
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        n = int(num_averaged) if isinstance(num_averaged, Tensor) else num_averaged
        for avg, cur in zip(averaged_param_list, current_param_list):
            if _is_float(avg):
                _lerp_(avg._data, cur._data, 1 / (n + 1), np.empty_like(avg._data))
            else:
                avg._data[...] = avg._data + (cur._data - avg._data) / (n + 1)
    return swa_update


def get_ema_avg_fn(decay=0.999):
    """A per-tensor EMA returning ``decay * ema + (1 - decay) * current``."""
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")

    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    """A per-tensor running mean returning ``avg + (current - avg) / (n + 1)``."""
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


def _running_mean_(avg, cur, n):
    # torch's CPU path: avg.copy_(avg + (cur - avg) / (n + 1)), the division in the float dtype
    if avg.dtype.kind in "fc":
        diff = cur - avg
        diff /= n + 1
        avg += diff
    else:
        avg[...] = avg + ((cur - avg) / (n + 1)).astype(D.get_default_dtype().np)


class AveragedModel(Module):
    """A copy of ``model`` whose parameters are averaged (SWA by default, or EMA) over training.

    >>> swa_model = AveragedModel(model)
    >>> for epoch in range(epochs):
    ...     train_one_epoch(model); swa_model.update_parameters(model)
    """

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", Tensor._make(np.array(0, dtype=np.int64)))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model):
        """Fold ``model``'s current parameters (and buffers with ``use_buffers``) into the average."""
        if self.use_buffers:
            pairs = list(zip(itertools.chain(self.module.parameters(), self.module.buffers()),
                             itertools.chain(model.parameters(), model.buffers())))
        else:
            pairs = list(zip(self.parameters(), model.parameters()))
        n = int(self.n_averaged._data)
        averaged = [a.detach() for a, _ in pairs]
        current = [m.detach() for _, m in pairs]
        with no_grad():
            if n == 0:
                for a, m in zip(averaged, current):
                    a._data[...] = m._data
            elif self.multi_avg_fn is not None:
                self.multi_avg_fn(averaged, current, self.n_averaged)
            elif self.avg_fn is None:
                for a, m in zip(averaged, current):
                    _running_mean_(a._data, m._data, n)
            else:
                for a, m in zip(averaged, current):
                    a._data[...] = self.avg_fn(a, m, self.n_averaged)._data
            for a, _ in pairs:
                a._bump_version()
            if not self.use_buffers:
                for b_swa, b_model in zip(self.module.buffers(), model.buffers()):
                    b_swa._data[...] = b_model._data
        self.n_averaged._data += 1


def update_bn(loader, model, device=None):
    """Recompute BatchNorm running statistics with one pass over ``loader`` (for an averaged model).

    >>> update_bn(train_loader, swa_model)
    """
    momenta = {}
    for module in model.modules():
        if hasattr(module, "reset_running_stats") and getattr(module, "track_running_stats", False):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None  # a cumulative average over the whole pass
    with no_grad():
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None:
                batch = batch.to(device)
            model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr to its ``swa_lr`` over ``anneal_epochs`` epochs, then hold it.

    >>> swa_scheduler = SWALR(optimizer, swa_lr=0.05, anneal_epochs=5)
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        for lr, group in zip(_format_param("swa_lr", optimizer, swa_lr), optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                          UserWarning, stacklevel=2)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        # recover the lr the annealing started from, so other schedulers' changes compose
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in self.optimizer.param_groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(self.optimizer.param_groups, prev_lrs)]

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
