"""torch.profiler: wall-clock profiles of ember programs.

While a ``profile`` is recording, every ember op call (``Op.apply``: forward ops, and the ember ops a
backward runs) and every ``record_function`` block becomes an event with its start, end, parent and
input shapes. ``key_averages()`` aggregates them by name into torch's table (self and total CPU time,
calls), ``export_chrome_trace`` writes the Chrome/Perfetto JSON trace. Op recording patches
``Op.apply`` only while a profile records, so an idle profiler costs nothing.
"""
import enum
import functools
import json
import os
import socket
import time
import warnings

__all__ = ["profile", "record_function", "ProfilerActivity", "ProfilerAction", "schedule",
           "tensorboard_trace_handler", "supported_activities"]


class ProfilerActivity(enum.Enum):
    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def supported_activities():
    return {ProfilerActivity.CPU}


class _Event:
    __slots__ = ("name", "start", "end", "parent", "children", "input_shapes", "user")

    def __init__(self, name, parent, input_shapes, user):
        self.name, self.parent, self.input_shapes, self.user = name, parent, input_shapes, user
        self.children, self.start, self.end = [], time.perf_counter_ns(), None

    @property
    def total_us(self):
        return (self.end - self.start) / 1e3

    @property
    def self_us(self):
        return self.total_us - sum(c.total_us for c in self.children)


_active = []  # the recording profiles (innermost last); events go to the innermost


def _open(name, input_shapes=None, user=False):
    prof = _active[-1]
    parent = prof._stack[-1] if prof._stack else None
    event = _Event(name, parent, input_shapes or [], user)
    (parent.children if parent is not None else prof._roots).append(event)
    prof._stack.append(event)
    return event


def _close(event):
    event.end = time.perf_counter_ns()
    prof = _active[-1] if _active else None
    if prof is not None and prof._stack and prof._stack[-1] is event:
        prof._stack.pop()


class record_function:
    """Labels a block (``with record_function("name"):``) or a function (as a decorator) in the profile."""

    def __init__(self, name, args=None):
        self.name, self._event = name, None

    def __enter__(self):
        if _active:
            self._event = _open(self.name, user=True)
        return self

    def __exit__(self, *exc):
        if self._event is not None:
            _close(self._event)
            self._event = None
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with record_function(self.name):
                return fn(*args, **kwargs)
        return wrapped


# ---------------------------------------------------------------- op recording (patched in while recording)
_patch = {"depth": 0, "original": None}


def _shapes(args):
    from .._tensor import Tensor
    return [list(a.shape) if isinstance(a, Tensor) else [] for a in args]


def _install_op_hook():
    from ..autograd.function import Op
    _patch["depth"] += 1
    if _patch["depth"] > 1:
        return
    original = Op.__dict__["apply"]
    _patch["original"] = original
    plain = original.__func__

    def apply(cls, *args):
        if not _active:
            return plain(cls, *args)
        event = _open("ember::" + cls.__name__, _shapes(args) if _active[-1].record_shapes else None)
        try:
            return plain(cls, *args)
        finally:
            _close(event)
    Op.apply = classmethod(apply)


def _remove_op_hook():
    from ..autograd.function import Op
    _patch["depth"] -= 1
    if _patch["depth"] == 0:
        Op.apply = _patch["original"]


# ---------------------------------------------------------------- aggregation
class FunctionEventAvg:
    def __init__(self, key, input_shapes=None):
        self.key, self.input_shapes = key, input_shapes
        self.count, self.cpu_time_total, self.self_cpu_time_total = 0, 0.0, 0.0
        self.is_user_annotation = False

    def add(self, event):
        self.count += 1
        self.cpu_time_total += event.total_us
        self.self_cpu_time_total += event.self_us
        self.is_user_annotation = event.user
        return self

    @property
    def cpu_time(self):
        return self.cpu_time_total / max(self.count, 1)

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total:.3f}us "
                f"cpu_time={self.cpu_time:.3f}us count={self.count}>")


_SORT_KEYS = {"cpu_time_total": "cpu_time_total", "self_cpu_time_total": "self_cpu_time_total",
              "cpu_time": "cpu_time", "count": "count", "self_cpu_time": "self_cpu_time_total"}


def _fmt_us(us):
    return f"{us / 1e3:.3f}ms" if us >= 1e3 else f"{us:.3f}us"


class EventList(list):
    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              max_shapes_column_width=80, header=None, top_level_events_only=False):
        rows = list(self)
        if sort_by is not None:
            if sort_by not in _SORT_KEYS:
                raise AttributeError(f"'FunctionEventAvg' object has no attribute '{sort_by}'")
            rows.sort(key=lambda e: getattr(e, _SORT_KEYS[sort_by]), reverse=True)
        if row_limit is not None and row_limit >= 0:
            rows = rows[:row_limit]
        total_self = sum(e.self_cpu_time_total for e in self) or 1.0
        width = max([len("Name")] + [min(len(e.key), max_name_column_width) for e in rows]) + 2
        columns = ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"]
        line = "-" * width + "  " + "  ".join("-" * 12 for _ in columns)
        out = [line, "Name".rjust(width) + "  " + "  ".join(c.rjust(12) for c in columns), line]
        for e in rows:
            out.append(e.key[:max_name_column_width].rjust(width) + "  " + "  ".join(s.rjust(12) for s in (
                f"{100 * e.self_cpu_time_total / total_self:.2f}%", _fmt_us(e.self_cpu_time_total),
                f"{100 * e.cpu_time_total / total_self:.2f}%", _fmt_us(e.cpu_time_total), _fmt_us(e.cpu_time),
                str(e.count))))
        out += [line, f"Self CPU time total: {_fmt_us(total_self)}", ""]
        return "\n".join(out)

    def total_average(self):
        avg = FunctionEventAvg("Total")
        for e in self:
            avg.count += e.count
            avg.cpu_time_total += e.cpu_time_total
            avg.self_cpu_time_total += e.self_cpu_time_total
        return avg


# ---------------------------------------------------------------- schedule and profile
def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """torch's step schedule: skip_first steps, then cycles of wait / warmup / active steps."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError("Invalid profiler schedule arguments")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results")

    def action(step):
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        cycle = wait + warmup + active
        if repeat > 0 and step // cycle >= repeat:
            return ProfilerAction.NONE
        pos = step % cycle
        if pos < wait:
            return ProfilerAction.NONE
        if pos < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD_AND_SAVE if pos == cycle - 1 else ProfilerAction.RECORD
    return action


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """An ``on_trace_ready`` that writes each trace as ``<worker>.<time>.pt.trace.json`` into ``dir_name``."""
    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"
        path = os.path.join(dir_name, f"{worker}.{time.time_ns() // 1000000}.pt.trace.json")
        if use_gzip:
            path += ".gz"
        prof.export_chrome_trace(path)
    return handler


class profile:
    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False, use_cuda=None,
                 custom_trace_id_callback=None):
        self.activities = set(activities) if activities else supported_activities()
        self.schedule, self.on_trace_ready, self.record_shapes = schedule, on_trace_ready, record_shapes
        self.profile_memory, self.with_stack = profile_memory, with_stack
        self.step_num = 0
        self._roots, self._stack, self._recording = [], [], False

    # recording on/off
    def _start_recording(self):
        if not self._recording:
            self._roots, self._stack, self._recording = [], [], True
            _active.append(self)
            _install_op_hook()

    def _stop_recording(self):
        if self._recording:
            self._recording = False
            _active.remove(self)
            _remove_op_hook()

    def _action(self):
        return self.schedule(self.step_num) if self.schedule is not None else ProfilerAction.RECORD

    def start(self):
        if self._action() in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE):
            self._start_recording()

    def stop(self):
        was = self._recording
        self._stop_recording()
        if was and self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def step(self):
        """Advances the schedule: recording starts/stops and ``on_trace_ready`` fires as it says."""
        finished = self._action()
        self.step_num += 1
        upcoming = self._action()
        if finished == ProfilerAction.RECORD_AND_SAVE:
            self._stop_recording()
            if self.on_trace_ready is not None:
                self.on_trace_ready(self)
        if upcoming in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE) and not self._recording:
            self._start_recording()
        elif upcoming in (ProfilerAction.NONE, ProfilerAction.WARMUP):
            self._stop_recording()

    # results
    def events(self):
        out = []

        def walk(events):
            for e in events:
                if e.end is not None:
                    out.append(e)
                walk(e.children)
        walk(self._roots)
        return out

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        groups = {}
        for e in self.events():
            key = (e.name, str(e.input_shapes)) if group_by_input_shape else (e.name,)
            if key not in groups:
                groups[key] = FunctionEventAvg(e.name, e.input_shapes if group_by_input_shape else None)
            groups[key].add(e)
        return EventList(groups.values())

    def export_chrome_trace(self, path):
        pid = os.getpid()
        trace = [{"name": e.name, "ph": "X", "ts": e.start / 1e3, "dur": e.total_us, "pid": pid, "tid": 0,
                  "cat": "user_annotation" if e.user else "cpu_op",
                  "args": {"Input Dims": e.input_shapes} if e.input_shapes else {}} for e in self.events()]
        if path.endswith(".gz"):
            import gzip
            with gzip.open(path, "wt") as f:
                json.dump({"traceEvents": trace}, f)
        else:
            with open(path, "w") as f:
                json.dump({"traceEvents": trace}, f)
