"""conv2d and max_pool2d forward+backward, ember vs torch side by side, one thread each.

Run: python benchmarks/bench_conv.py            (sets OMP/OpenBLAS/MKL threads to 1 itself)

Each figure is the best of 15 runs in CPU time of this process (time.process_time): with one thread
per framework that is the work done, and it is far less disturbed than wall time on a shared machine.
"""
import os
import sys
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import ember  # noqa: E402
import ember.nn.functional as EF  # noqa: E402


def best_of(fn, repeat=15):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return min(times) * 1e3


def step(lib, F, x, w, b, **kw):
    def run():
        for t in (x, w, b):
            t.grad = None
        y = F.conv2d(x, w, b, **kw)
        y.sum().backward()
    return run


def pool_step(F, x):
    def run():
        x.grad = None
        F.max_pool2d(x, 2).sum().backward()
    return run


def main():
    import torch
    torch.set_num_threads(1)
    ember.set_num_threads(1)
    cases = [("64x3x32x32 -> 32, k3 p1", (64, 3, 32, 32), (32, 3, 3, 3), dict(padding=1)),
             ("64x32x16x16 -> 64, k3 p1", (64, 32, 16, 16), (64, 32, 3, 3), dict(padding=1)),
             ("64x3x32x32 -> 6, k5 (LeNet 1)", (64, 3, 32, 32), (6, 3, 5, 5), {}),
             ("64x6x14x14 -> 16, k5 (LeNet 2)", (64, 6, 14, 14), (16, 6, 5, 5), {}),
             ("64x64x8x8 -> 64, k3 s2 p1", (64, 64, 8, 8), (64, 64, 3, 3), dict(stride=2, padding=1))]
    rng = np.random.default_rng(0)
    print("forward + backward; 'x grad' also computes the input gradient (a first layer does not)")
    print(f"{'case':32s} {'x grad':>6s} {'ember ms':>9s} {'torch ms':>9s} {'torch/ember':>12s}")
    for name, xs, ws, kw in cases:
        arrs = [rng.standard_normal(s).astype(np.float32) for s in (xs, ws, ws[:1])]
        for input_grad in (True, False):
            e = [ember.from_numpy(a) for a in arrs]
            t = [torch.from_numpy(a) for a in arrs]
            for i, (a, b) in enumerate(zip(e, t)):
                if i or input_grad:
                    a.requires_grad_()
                    b.requires_grad_()
            te = best_of(step(ember, EF, *e, **kw))
            tt = best_of(step(torch, torch.nn.functional, *t, **kw))
            print(f"{name:32s} {'yes' if input_grad else 'no':>6s} {te:9.2f} {tt:9.2f} {tt / te:12.2f}")
    print("\nmax_pool2d(2) forward + backward")
    for shape in [(64, 6, 28, 28), (64, 16, 10, 10), (64, 32, 32, 32), (64, 64, 16, 16)]:
        a = rng.standard_normal(shape).astype(np.float32)
        times = []
        for lib in (ember, torch):
            x = lib.from_numpy(a).requires_grad_()
            times.append(best_of(pool_step(lib.nn.functional, x)))
        te, tt = times
        print(f"{'x'.join(map(str, shape)):32s} {'':>6s} {te:9.2f} {tt:9.2f} {tt / te:12.2f}")


if __name__ == "__main__":
    main()
