"""Compiled kernels (see ``ember._jit``): one module per area, each function a plain Python loop that
Numba compiles on first use. Call sites keep a NumPy path for when the layer is off."""
