"""torch.backends.openmp: BLAS threads are NumPy's (``ember.set_num_threads``)."""


def is_available():
    return True
