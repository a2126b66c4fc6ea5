"""Thread control for the BLAS NumPy calls, as ``torch.set_num_threads``."""
import os

_state = {"n": None, "limiter": None}


def set_num_threads(n):
    n = int(n)
    if n < 1:
        raise RuntimeError("set_num_threads expects a positive integer")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # without threadpoolctl the environment variables apply at start-up only
        os.environ["OMP_NUM_THREADS"] = str(n)
        _state["n"] = n
        return
    _state["limiter"] = threadpool_limits(limits=n)
    _state["n"] = n


def get_num_threads():
    if _state["n"] is not None:
        return _state["n"]
    try:
        from threadpoolctl import threadpool_info
        nums = [p["num_threads"] for p in threadpool_info()]
        if nums:
            return max(nums)
    except ImportError:
        pass
    return int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1))


def get_num_interop_threads():
    return 1


def set_num_interop_threads(n):
    pass
