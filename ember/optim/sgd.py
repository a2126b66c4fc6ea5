"""Stochastic gradient descent with optional momentum (heavy-ball or Nesterov) and weight decay."""
import numpy as np

from .. import _jit
from .._kernels import optim as _kernels
from .optimizer import Optimizer, _as_real, _blocks, _check_args, _kernel_views, _BLOCK, _KERNEL_DTYPES


class SGD(Optimizer):
    """torch.optim.SGD.

    >>> opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    """

    _scalar_state_keys = ()

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        _check_args(lr=lr, momentum=momentum, weight_decay=weight_decay, differentiable=differentiable)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

    def step(self, closure=None):
        """Perform one optimisation step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._eval_closure(closure)
        for group in self.param_groups:
            momentum = group["momentum"]
            if not momentum and not group["weight_decay"] and not group["maximize"]:
                _plain_step(group["params"], float(group["lr"]), self._tmp)
                continue
            params, grads, bufs, owners = [], [], [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                p._bump_version()
                params.append(_as_real(p._data))
                grads.append(_as_real(p.grad._data))
                if momentum != 0:
                    owners.append(p)
                    buf = self.state[p].get("momentum_buffer")
                    bufs.append(None if buf is None else _as_real(buf._data))
            sgd(params, grads, bufs, weight_decay=group["weight_decay"], momentum=momentum, lr=float(group["lr"]),
                dampening=group["dampening"], nesterov=group["nesterov"], maximize=group["maximize"],
                tmp=self._tmp)
            if momentum != 0:
                for p, buf in zip(owners, bufs):
                    state = self.state[p]
                    if "momentum_buffer" not in state:
                        state["momentum_buffer"] = p._wrap(buf.view(p._data.dtype))
        return loss


def _plain_step(params, lr, tmp):
    """param += grad * -lr for every parameter with a gradient (no momentum, decay or maximize):
    _sgd_block's arithmetic on small arrays, without building the lists it takes."""
    compiled = _jit.enabled()
    for p in params:
        g = p.grad
        if g is None:
            continue
        vc = p._vc  # (p._bump_version() inlined)
        if vc is None:
            p._vc = [1]
        else:
            vc[0] += 1
        d = p._data
        gd = g._data
        # (_jit.enabled_for(d, gd) and _kernel_views inlined: host arrays, one kernel dtype, C order)
        if (compiled and d.__class__ is np.ndarray and gd.__class__ is np.ndarray and d.dtype in _KERNEL_DTYPES
                and gd.dtype == d.dtype and d.flags.c_contiguous and gd.flags.c_contiguous):
            _kernels.sgd_plain(d.ravel(), gd.ravel(), lr)
        elif d.dtype.kind == "c" or d.size > _BLOCK:  # the blocked, real-view general path
            d, gd = _as_real(d), _as_real(gd)
            for (pb, gb), scratch in _blocks([d, gd], tmp(d)):
                pb += np.multiply(gb, -lr, out=scratch)
        else:
            d += np.multiply(gd, -lr, out=tmp(d))


def sgd(params, grads, momentum_buffers, *, weight_decay, momentum, lr, dampening, nesterov, maximize, tmp=None):
    """The SGD update over lists of NumPy arrays, in place. A ``None`` momentum buffer is created
    (as a copy of the first gradient) and stored back into ``momentum_buffers``."""
    tmp = tmp or np.empty_like
    compiled = _jit.enabled()  # and per parameter a host array (_jit.enabled_for inlined: the hot path)
    for i, param in enumerate(params):
        if compiled and param.__class__ is np.ndarray and _sgd_kernel(i, param, grads, momentum_buffers, weight_decay,
                                                                      momentum, lr, dampening, nesterov, maximize):
            continue
        if momentum != 0 and momentum_buffers[i] is None:
            # first step: the buffer starts as the (decayed, signed) gradient itself
            grad = grads[i] if not maximize else -grads[i]
            if weight_decay != 0:
                grad = grad + weight_decay * param
            momentum_buffers[i] = buf = grad.copy()
            param += np.multiply(grad + momentum * buf if nesterov else buf, -lr, out=tmp(param))
            continue
        arrays = [param, grads[i]] + ([momentum_buffers[i]] if momentum != 0 else [])
        for block, scratch in _blocks(arrays, tmp(param)):
            _sgd_block(*block[:2], block[2] if momentum != 0 else None, scratch, weight_decay, momentum, lr,
                       dampening, nesterov, maximize)


def _sgd_kernel(i, param, grads, momentum_buffers, weight_decay, momentum, lr, dampening, nesterov, maximize):
    """Update ``params[i]`` with the fused kernel when it can take the arrays; False leaves it to NumPy."""
    buf = momentum_buffers[i] if momentum != 0 else None
    first_step = momentum != 0 and buf is None
    if first_step:
        buf = np.empty_like(param)  # filled by the kernel with the first (decayed, signed) gradient
    flat = _kernel_views(param, grads[i], grads[i] if buf is None else buf)
    if flat is None:
        return False
    _kernels.sgd(*flat, first_step, bool(maximize), float(weight_decay), float(momentum), float(dampening),
                 bool(nesterov), float(lr))
    if first_step:
        momentum_buffers[i] = buf
    return True


def _sgd_block(param, grad, buf, scratch, weight_decay, momentum, lr, dampening, nesterov, maximize):
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    if buf is not None:
        buf *= momentum
        if dampening != 0:
            buf += np.multiply(grad, 1 - dampening, out=scratch)
        else:
            buf += grad
        grad = grad + momentum * buf if nesterov else buf
    # param.add_(grad, alpha=-lr) through the reused scratch buffer (no fresh allocation per step)
    param += np.multiply(grad, -lr, out=scratch)
