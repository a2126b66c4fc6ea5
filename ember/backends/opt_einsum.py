"""torch.backends.opt_einsum: ember contracts einsum operands with NumPy's optimiser for 3+ operands."""
enabled = True
strategy = "auto"


def is_available():
    return True
