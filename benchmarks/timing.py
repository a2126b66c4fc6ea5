"""Measurement primitives: interleaved timing, the machine's GEMM peak, and peak RSS in a subprocess."""
import json
import os
import resource
import statistics
import subprocess
import sys
import time


def short_error(exc):
    """One line naming the exception, for the "not runnable" rows."""
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__
    return text[:200]


def interleaved(steps, rounds, target_s, warmup, fixed_steps=None):
    """Time several ``step`` callables in alternation (A, B, A, B, ...) and return median steps/s.

    ``steps`` maps a framework name to its step. Each round runs every framework once for
    ``fixed_steps`` steps, or for as many as fill ``target_s`` seconds (calibrated on the warm-up),
    so a slow neighbour on the machine hits both frameworks alike. Returns
    ``{name: {"steps_per_s": median, "rounds": [...], "steps_per_round": n}}``.
    """
    per_round = {}
    for name, step in steps.items():
        t0 = time.perf_counter()
        for _ in range(warmup):
            step()
        took = (time.perf_counter() - t0) / max(warmup, 1)
        per_round[name] = fixed_steps or max(1, int(target_s / max(took, 1e-9)))
    rates = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            n = per_round[name]
            t0 = time.perf_counter()
            for _ in range(n):
                step()
            rates[name].append(n / (time.perf_counter() - t0))
    return {name: {"steps_per_s": statistics.median(r), "rounds": r, "steps_per_round": per_round[name]}
            for name, r in rates.items()}


def gemm_peak_gflops(n=2048, repeats=5):
    """Best float32 GEMM rate NumPy's BLAS reaches here, at the thread count already in force."""
    import numpy as np
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b  # warm-up: thread pool start, page faults
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n ** 3 / best / 1e9


def max_rss_mb():
    """Peak RSS of this process. Linux's ru_maxrss survives fork+exec (a child starts at its parent's
    peak), so read the address space's own high-water mark (VmHWM) where /proc has it."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def measure_rss(framework, workload, threads, steps, timeout=300):
    """Run ``workload`` for ``steps`` steps in a fresh interpreter that imports only ``framework``.

    Returns ``{"base_mb", "peak_mb", "delta_mb"}``: the peak RSS after the import (the interpreter,
    NumPy, the framework) and at the end; ``delta_mb`` is what the workload itself added, the fair
    comparison, since importing torch alone costs far more than importing ember.
    """
    cmd = [sys.executable, os.path.join(os.path.dirname(__file__), "run.py"), "--rss-child", framework,
           "--workload", workload, "--threads", str(threads), "--steps", str(steps)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout}s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"error": tail[:200]}


def print_case_table(cases, filters, ember_module):
    """Op micro-benchmarks: each case maps a framework module to a step; print ember vs torch times."""
    import torch
    torch.set_num_threads(1)
    print(f"{'op':24s} {'ember us':>10s} {'torch us':>10s} {'torch/ember':>12s}")
    for name, make in cases.items():
        if filters and not any(f in name for f in filters):
            continue
        res = interleaved({"ember": make(ember_module), "torch": make(torch)}, rounds=5, target_s=0.05, warmup=5)
        e, t = (1e6 / res[k]["steps_per_s"] for k in ("ember", "torch"))
        print(f"{name:24s} {e:10.1f} {t:10.1f} {t / e:12.2f}")
