"""torch.backends.mkldnn: ember does not use oneDNN."""
enabled = False


def is_available():
    return False
