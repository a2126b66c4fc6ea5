"""Optional SciPy, imported on first use: importing it costs more than importing ember itself."""
import functools


@functools.lru_cache(maxsize=None)
def scipy_module(name):
    """``scipy.<name>`` (e.g. 'special', 'linalg'), or None when SciPy is not installed."""
    try:
        import importlib
        return importlib.import_module(f"scipy.{name}")
    except ImportError:
        return None
