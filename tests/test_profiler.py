"""ember.profiler: recorded ops and user blocks, nesting (self vs total time), key_averages and its
table, schedules (compared with torch's), chrome traces, and that Op.apply is restored afterwards."""
import json

import pytest

import ember
from ember.autograd.function import Op
from ember.profiler import ProfilerAction, ProfilerActivity, profile, record_function, schedule
from oracle import needs_torch, torch


def test_ops_and_blocks_are_recorded_with_nesting():
    original = Op.__dict__["apply"]
    model = ember.nn.Linear(4, 3)
    x = ember.randn(2, 4)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        with record_function("inference"):
            model(x).sum().backward()
    assert Op.__dict__["apply"] is original
    averages = {e.key: e for e in prof.key_averages()}
    assert averages["inference"].count == 1 and averages["ember::Linear"].count == 1
    block = averages["inference"]
    assert block.cpu_time_total >= averages["ember::Linear"].cpu_time_total
    assert block.self_cpu_time_total < block.cpu_time_total
    linear = [e for e in prof.events() if e.name == "ember::Linear"][0]
    assert linear.input_shapes[0] == [2, 4] and linear.parent.name == "inference"
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=2)
    assert table.splitlines()[3].split()[0] == "inference" and "Self CPU time total" in table
    with pytest.raises(AttributeError):
        prof.key_averages().table(sort_by="no_such_column")


def test_nothing_is_recorded_outside_a_profile_and_decorator_form():
    @record_function("step")
    def step(t):
        return t * 2
    assert step(ember.ones(1)).item() == 2.0
    with profile() as prof:
        step(ember.ones(2))
    assert [e.key for e in prof.key_averages()].count("step") == 1


def _warns_if(expected):
    import contextlib
    return pytest.warns(UserWarning, match="warmup") if expected else contextlib.nullcontext()


@needs_torch
@pytest.mark.parametrize("kwargs", [dict(wait=1, warmup=1, active=2), dict(wait=0, warmup=0, active=1, repeat=2),
                                    dict(wait=2, warmup=1, active=3, repeat=1, skip_first=2)])
def test_schedule_matches_torch(kwargs):
    with _warns_if(kwargs["warmup"] == 0):
        ours = schedule(**kwargs)
    theirs = torch.profiler.schedule(**kwargs)
    assert [ours(i).name for i in range(16)] == [theirs(i).name for i in range(16)]


def test_schedule_records_only_active_steps_and_fires_on_trace_ready(tmp_path):
    traces = []
    with profile(schedule=schedule(wait=1, warmup=1, active=2), on_trace_ready=traces.append) as prof:
        for i in range(4):
            with record_function(f"step{i}"):
                ember.ones(3).sum()
            prof.step()
    assert len(traces) == 1
    assert sorted(e.key for e in prof.key_averages() if e.key.startswith("step")) == ["step2", "step3"]
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    events = json.loads(path.read_text())["traceEvents"]
    assert {e["name"] for e in events} >= {"step2", "step3"} and all(e["ph"] == "X" for e in events)
    assert ProfilerAction.RECORD_AND_SAVE.name == "RECORD_AND_SAVE"


def test_tensorboard_trace_handler_writes_a_trace(tmp_path):
    from ember.profiler import tensorboard_trace_handler
    with profile(on_trace_ready=tensorboard_trace_handler(str(tmp_path), worker_name="w")):
        ember.ones(2).sum()
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].name.startswith("w.") and "traceEvents" in files[0].read_text()
    import ember.autograd.profiler as legacy
    assert legacy.profile is profile
