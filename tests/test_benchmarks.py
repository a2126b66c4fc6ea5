"""The benchmark suite runs: workloads build and step on ember, and the harness reports them."""
import os
import sys

import numpy as np
import pytest

import ember
from oracle import needs_torch, torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import workloads, timing  # noqa: E402


@needs_torch
def test_raw_mlp_loss_matches_torch():
    # raw_mlp builds its weights and data from NumPy, so both frameworks compute the same loss
    e = workloads.WORKLOADS["raw_mlp"].build(ember)()
    t = workloads.WORKLOADS["raw_mlp"].build(torch)()
    np.testing.assert_allclose(e.item(), t.item(), rtol=1e-5)


@pytest.mark.parametrize("name", ["mlp", "infer1", "op_nograd", "op_grad", "op_backward"])
def test_small_workloads_step_on_ember(name):
    step = workloads.WORKLOADS[name].build(ember)
    for _ in range(2):
        step()


def test_interleaved_reports_a_median_per_framework():
    calls = {"a": 0, "b": 0}

    def make(key):
        def step():
            calls[key] += 1
        return step

    out = timing.interleaved({"a": make("a"), "b": make("b")}, rounds=3, target_s=0.001, warmup=1, fixed_steps=4)
    assert set(out) == {"a", "b"}
    assert calls == {"a": 13, "b": 13}  # 1 warm-up + 3 rounds x 4 steps
    assert all(len(v["rounds"]) == 3 and v["steps_per_s"] > 0 for v in out.values())


def test_unrunnable_workload_is_reported_not_hidden():
    from benchmarks import run
    wl = workloads.Workload(name="broken", build=lambda fw: fw.no_such_api, unit="step", samples=1, flops=0.0,
                            description="needs an API ember lacks")
    args = run.parse_args(["--rounds", "1", "--steps", "1", "--warmup", "0"])
    row = run.run_workload(wl, {"ember": ember}, args)
    assert row["ember"]["error"].startswith("not runnable: AttributeError")


def test_peak_rss_reads_this_process():
    assert timing.max_rss_mb() > 10
