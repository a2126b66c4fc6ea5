"""Run the benchmark workloads on ember and torch, interleaved in one process, and report.

    python benchmarks/run.py --threads 1                       # everything (a few minutes)
    python benchmarks/run.py --threads 1 --workload mlp,raw_mlp --rounds 9
    python benchmarks/run.py --list

Both frameworks run in this process, alternating round by round after a warm-up; each figure is
the median over rounds. Peak RSS is measured separately, each framework in its own subprocess
(``--no-rss`` skips it). Results go to benchmarks/results/results.{md,json}.
"""
import argparse
import json
import os
import platform
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAMEWORKS = ("ember", "torch")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", default="all", help="comma-separated names, or 'all' (see --list)")
    p.add_argument("--steps", type=int, default=None,
                   help="timed steps per framework per round (default: calibrated to --round-seconds)")
    p.add_argument("--rounds", type=int, default=7, help="interleaved rounds; the median is reported")
    p.add_argument("--round-seconds", type=float, default=0.3, help="target length of one round per framework")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps per framework before timing")
    p.add_argument("--threads", type=int, default=1,
                   help="threads for both frameworks: OMP/OpenBLAS/MKL env, ember.set_num_threads, "
                        "torch.set_num_threads")
    p.add_argument("--no-pin", action="store_true", help="do not pin the process to --threads cores")
    p.add_argument("--no-rss", action="store_true", help="skip the per-framework peak-RSS subprocesses")
    p.add_argument("--frameworks", default=",".join(FRAMEWORKS), help="subset of ember,torch")
    p.add_argument("--out-dir", default=os.path.join(ROOT, "benchmarks", "results"))
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    p.add_argument("--rss-child", default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def pin_threads(n, pin):
    """Fix the BLAS/OpenMP thread count before NumPy or torch is imported, and optionally the cores."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    if pin and hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))
        if len(cores) > n:
            os.sched_setaffinity(0, cores[:n])


def load_framework(name, threads):
    if name == "ember":
        import ember as fw
    else:
        import torch as fw
    fw.set_num_threads(threads)
    return fw


# ------------------------------------------------------------------ the subprocess measuring RSS
def rss_child(args):
    from benchmarks.timing import max_rss_mb
    fw = load_framework(args.rss_child, args.threads)
    if args.rss_child == "ember":
        fw._jit.load_runtime()  # the kernel layer's runtime is part of the framework, like torch's import
    from benchmarks.workloads import WORKLOADS
    base = max_rss_mb()
    step = WORKLOADS[args.workload].build(fw)
    for _ in range(args.steps):
        step()
    peak = max_rss_mb()
    print(json.dumps({"base_mb": round(base, 1), "peak_mb": round(peak, 1), "delta_mb": round(peak - base, 1)}))


# ------------------------------------------------------------------ the main run
def run_workload(wl, frameworks, args):
    from benchmarks.timing import interleaved, short_error
    row = {"workload": wl.name, "description": wl.description, "unit": wl.unit, "kind": wl.kind}
    steps, errors = {}, {}
    widened = wl.uses_workers and hasattr(os, "sched_setaffinity")
    if widened:  # workers need cores of their own: the point of this workload
        saved = os.sched_getaffinity(0)
        os.sched_setaffinity(0, range(os.cpu_count()))
    for name, fw in frameworks.items():
        if fw is None:
            errors[name] = "not installed"
            continue
        try:
            step = wl.build(fw)
            step()  # surface "not runnable" before timing
            steps[name] = step
        except Exception as exc:  # a missing feature must show up in the table, not abort the run
            errors[name] = "not runnable: " + short_error(exc)
    try:
        timings = interleaved(steps, args.rounds, args.round_seconds, args.warmup, args.steps) if steps else {}
    except Exception as exc:
        timings = {}
        for name in steps:
            errors[name] = "failed while timing: " + short_error(exc)
    finally:
        if widened:
            os.sched_setaffinity(0, saved)
    from benchmarks.workloads import OPS_PER_STEP
    per_step = OPS_PER_STEP.get(wl.name, 1)
    for name in frameworks:
        if name in errors:
            row[name] = {"error": errors[name]}
            continue
        sps = timings[name]["steps_per_s"]
        row[name] = {"rate": sps * per_step, "steps_per_s": sps, "samples_per_s": sps * wl.samples,
                     "gflops": sps * wl.flops / 1e9, "steps_per_round": timings[name]["steps_per_round"],
                     "round_rates": [r * per_step for r in timings[name]["rounds"]]}
    if all("rate" in row.get(n, {}) for n in FRAMEWORKS):
        row["ratio"] = row["ember"]["rate"] / row["torch"]["rate"]
    return row


def add_rss(row, wl, frameworks, args):
    from benchmarks.timing import measure_rss
    n = max(3, min(20, args.steps or 5))
    for name in frameworks:
        cell = row.get(name)
        if isinstance(cell, dict) and "rate" in cell:
            cell["rss"] = measure_rss(name, wl.name, args.threads, n)
    e, t = row.get("ember", {}).get("rss", {}), row.get("torch", {}).get("rss", {})
    if e.get("delta_mb") and t.get("delta_mb"):
        row["rss_delta_ratio"] = e["delta_mb"] / t["delta_mb"]


def fmt(x, digits=1):
    if x is None:
        return "-"
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}" if x >= 1 else f"{x:.{digits + 2}f}"


def markdown(rows, meta):
    peak = meta["gemm_peak_gflops"]
    lines = [
        f"Machine: {meta['machine']}; {meta['threads']} thread(s) per framework; float32 GEMM peak "
        f"{peak:.1f} GFLOP/s (NumPy 2048^3); torch {meta['torch_version']}, NumPy {meta['numpy_version']}.",
        f"Command: `{meta['command']}`",
        "",
        "| workload | unit | ember /s | torch /s | ember/torch | ember samples/s | torch samples/s "
        "| ember GFLOP/s (% peak) | torch GFLOP/s (% peak) | ember RSS peak (+workload) MB "
        "| torch RSS peak (+workload) MB | RSS ratio |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        cells = [r["workload"], r["unit"]]
        for part in ("rate", "samples_per_s"):
            for name in FRAMEWORKS:
                c = r.get(name, {})
                cells.append(fmt(c[part]) if part in c else "-")
            if part == "rate":
                cells.append(f"**{r['ratio']:.2f}**" if "ratio" in r else "-")
        for name in FRAMEWORKS:
            c = r.get(name, {})
            cells.append(f"{c['gflops']:.2f} ({100 * c['gflops'] / peak:.0f}%)" if c.get("gflops") else "-")
        for name in FRAMEWORKS:
            rss = r.get(name, {}).get("rss", {})
            cells.append(f"{rss['peak_mb']:.0f} (+{rss['delta_mb']:.0f})" if "peak_mb" in rss else "-")
        cells.append(f"{r['rss_delta_ratio']:.2f}" if "rss_delta_ratio" in r else "-")
        lines.append("| " + " | ".join(cells) + " |")
    notes = [f"- {r['workload']} on {name}: {r[name]['error']}" for r in rows for name in FRAMEWORKS
             if "error" in r.get(name, {})]
    notes += [f"- {r['workload']} RSS on {name}: {r[name]['rss']['error']}" for r in rows for name in FRAMEWORKS
              if "error" in r.get(name, {}).get("rss", {})]
    if notes:
        lines += ["", "Not runnable / errors:"] + notes
    lines += ["", "Rates are per unit (micro-benchmarks: per op; infer1: per call). RSS: peak resident set of a "
              "fresh process running only that framework; (+N) is the part added by building and running the "
              "workload, after the imports; the ratio compares those parts."]
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    pin_threads(args.threads, not args.no_pin)
    sys.path.insert(0, ROOT)
    if args.rss_child:
        return rss_child(args)

    from benchmarks.workloads import WORKLOADS
    if args.list:
        for wl in WORKLOADS.values():
            print(f"{wl.name:12s} {wl.description}")
        return
    names = list(WORKLOADS) if args.workload == "all" else args.workload.split(",")
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        sys.exit(f"unknown workload(s) {unknown}; choose from {list(WORKLOADS)}")

    import numpy as np
    from benchmarks.timing import gemm_peak_gflops
    frameworks = {}
    for name in args.frameworks.split(","):
        try:
            frameworks[name] = load_framework(name, args.threads)
        except ImportError:
            frameworks[name] = None
    peak = gemm_peak_gflops()
    meta = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                       f"Python {platform.python_version()}",
            "threads": args.threads, "gemm_peak_gflops": peak, "numpy_version": np.__version__,
            "torch_version": getattr(frameworks.get("torch"), "__version__", "not installed"),
            "command": "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    print(f"GEMM peak: {peak:.1f} GFLOP/s at {args.threads} thread(s)", flush=True)

    rows = []
    for name in names:
        wl = WORKLOADS[name]
        t0 = time.perf_counter()
        row = run_workload(wl, frameworks, args)
        if not args.no_rss:
            add_rss(row, wl, frameworks, args)
        rows.append(row)
        ratio = f"{row['ratio']:.2f}" if "ratio" in row else "-"
        status = "; ".join(f"{n}: {row[n]['error']}" for n in frameworks if "error" in row.get(n, {}))
        print(f"{name:12s} ratio {ratio:>5s}  ({time.perf_counter() - t0:.1f}s) {status}", flush=True)

    table = markdown(rows, meta)
    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, "results.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(args.out_dir, "results.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    print()
    print(table)


if __name__ == "__main__":
    main()
