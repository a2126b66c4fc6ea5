"""Backend helpers: the few kernels where NumPy and CuPy differ or need care (im2col, ...)."""
