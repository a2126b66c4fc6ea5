"""DataLoader throughput with 0 vs N worker processes, on a dataset whose __getitem__ costs CPU time.

Each sample is a 64x64 image put through a few NumPy passes (a stand-in for decoding + augmentation, about
2 ms of single-threaded work). With the work spread over worker processes an epoch should take about
1/min(N, cores) as long.

    python benchmarks/dataloader_workers.py [--samples 512] [--workers 2] [--repeats 3]

When torch is installed it also times the loader against torch's on cheap samples, where the loader's own
overhead is all there is to measure: in the main process (num_workers=0: sampling, fetching, collating), and with
2 workers on CIFAR-shaped samples (forking, moving batches to the main process; CPU time of the main process and
its workers together, which a loaded machine disturbs less than the wall-clock time).
"""
import resource
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ember.utils.data import DataLoader, Dataset  # noqa: E402


class CostlyImages(Dataset):
    def __init__(self, n, passes=12):
        self.n, self.passes = n, passes

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        rng = np.random.default_rng(i)
        img = rng.random((64, 64), dtype=np.float32)
        for _ in range(self.passes):  # separable 3-tap blur, then a sort: real work, no BLAS threads
            img = (img + np.roll(img, 1, 0) + np.roll(img, -1, 0)) / 3
            img = (img + np.roll(img, 1, 1) + np.roll(img, -1, 1)) / 3
            img = np.sort(img, axis=1)[:, ::-1].copy()
        return img[None], i % 10


def epoch_time(loader):
    start = time.perf_counter()
    n = 0
    for x, y in loader:
        n += x.shape[0]
    return time.perf_counter() - start, n


def overhead_vs_torch(repeats):
    """Epoch time of ember's and torch's DataLoader, num_workers=0, batch 64, shuffled, 10k cheap samples."""
    try:
        import torch
        from torch.utils import data as td
    except ImportError:
        return
    import ember
    from ember.utils import data as ed
    x = np.random.rand(10000, 64).astype(np.float32)
    y = np.random.randint(0, 10, 10000)

    class Samples:
        def __len__(self):
            return len(x)

        def __getitem__(self, i):
            return x[i], int(y[i])

    def best(loader):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in loader:
                pass
            times.append(time.perf_counter() - start)
        return min(times)
    cases = [("TensorDataset", ed.TensorDataset(ember.from_numpy(x), ember.from_numpy(y)),
              td.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))),
             ("(ndarray, int) samples", type("E", (Samples, ed.Dataset), {})(), type("T", (Samples, td.Dataset), {})())]
    for name, e_ds, t_ds in cases:
        e = best(ed.DataLoader(e_ds, batch_size=64, shuffle=True))
        t = best(td.DataLoader(t_ds, batch_size=64, shuffle=True))
        print(f"loader overhead, {name}: ember {e * 1e3:.1f} ms/epoch, torch {t * 1e3:.1f} ms/epoch "
              f"({t / e:.1f}x)")
    worker_overhead_vs_torch(repeats, ember, torch, ed, td)


def _cpu_seconds():
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def worker_overhead_vs_torch(repeats, ember, torch, ed, td):
    """2 workers, 2048 (3, 32, 32) float32 samples, batch 64: epochs alternate between the two loaders."""
    images = np.random.rand(2048, 3, 32, 32).astype(np.float32)

    def loader(fw, data):
        x = fw.from_numpy(images)
        ds = type("Images", (data.Dataset,), {"__len__": lambda self: len(x), "__getitem__": lambda self, i: (x[i], i)})
        return data.DataLoader(ds(), batch_size=64, shuffle=True, num_workers=2)
    loaders = {"ember": loader(ember, ed), "torch": loader(torch, td)}
    wall, cpu = {k: [] for k in loaders}, {k: [] for k in loaders}
    for _ in range(repeats + 1):
        for name, dl in loaders.items():
            start, cpu_start = time.perf_counter(), _cpu_seconds()
            for _ in dl:
                pass
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(_cpu_seconds() - cpu_start)
    e, t = (sorted(cpu[k][1:])[len(cpu[k][1:]) // 2] for k in ("ember", "torch"))  # medians, first epoch dropped
    print(f"loader overhead, 2 workers, (3, 32, 32) samples: CPU (main + workers) ember {e * 1e3:.0f} ms/epoch, "
          f"torch {t * 1e3:.0f} ms/epoch ({t / e:.1f}x); best wall ember {min(wall['ember']) * 1e3:.0f} ms, "
          f"torch {min(wall['torch']) * 1e3:.0f} ms")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--samples", type=int, default=512)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    ds = CostlyImages(args.samples)
    results = {}
    for workers in (0, args.workers):
        loader = DataLoader(ds, batch_size=args.batch_size, shuffle=True, num_workers=workers)
        times = []
        for _ in range(args.repeats):
            t, n = epoch_time(loader)
            assert n == args.samples
            times.append(t)
        results[workers] = min(times)
        print(f"num_workers={workers}: best epoch {results[workers]:.3f} s "
              f"({args.samples / results[workers]:.0f} samples/s) over {args.repeats} epochs")
    print(f"speed-up with num_workers={args.workers}: {results[0] / results[args.workers]:.2f}x "
          f"on {os.cpu_count()} cores")
    overhead_vs_torch(args.repeats)


if __name__ == "__main__":
    main()
