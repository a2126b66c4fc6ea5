"""Optimizer step time, ember vs torch side by side, one thread each.

Parameters and gradients of an MLP 784-1024-1024-10 (1.86M float32 values); each optimizer's step is
timed alone (gradients fixed), interleaving the two libraries and keeping the best of several rounds
(process CPU time, one thread each). ember runs its fused compiled updates (``ember._kernels.optim``)
and, in the "numpy" column, the NumPy path (``ember._jit.disabled()``).

Run: python benchmarks/bench_optim.py [Adam SGD ...]
"""
import os
import sys
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import ember  # noqa: E402
from ember import _jit  # noqa: E402

SHAPES = [(1024, 784), (1024,), (1024, 1024), (1024,), (10, 1024), (10,)]
CONFIGS = [("Adam", {}), ("AdamW", {}), ("Adam", dict(amsgrad=True)), ("SGD", dict(lr=0.1)),
           ("SGD", dict(lr=0.1, momentum=0.9)), ("RMSprop", {}), ("Adagrad", {})]


def make(lib, name, kwargs, init, grads):
    params = [lib.tensor(a.copy(), requires_grad=True) for a in init]
    for p, g in zip(params, grads):
        p.grad = lib.tensor(g.copy())
    opt = getattr(lib.optim, name)(params, **kwargs)
    for _ in range(3):  # create the state, warm the caches
        opt.step()
    return opt


def time_steps(opt, n=20):
    # CPU time of this process: on a shared machine it is far less noisy than wall time, and with one
    # thread per library the two agree when the machine is idle
    t0 = time.process_time()
    for _ in range(n):
        opt.step()
    return (time.process_time() - t0) / n


def main(names):
    import torch
    torch.set_num_threads(1)
    ember.set_num_threads(1)
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    print(f"{'optimizer':28s} {'ember ms':>9s} {'numpy ms':>9s} {'torch ms':>9s} {'ratio':>6s}  "
          "(ratio = torch time / ember time)")
    for name, kwargs in CONFIGS:
        if names and name not in names:
            continue
        eo, to = make(ember, name, kwargs, init, grads), make(torch, name, kwargs, init, grads)
        te, tn, tt = [], [], []
        for _ in range(7):
            te.append(time_steps(eo))
            with _jit.disabled():
                tn.append(time_steps(eo))
            tt.append(time_steps(to))
        label = name + "".join(f" {k}={v}" for k, v in kwargs.items())
        print(f"{label:28s} {min(te) * 1e3:9.2f} {min(tn) * 1e3:9.2f} {min(tt) * 1e3:9.2f} {min(tt) / min(te):6.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
