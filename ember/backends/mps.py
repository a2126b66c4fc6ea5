"""torch.backends.mps: Apple GPUs; not available in ember."""


def is_available():
    return False


def is_built():
    return False
