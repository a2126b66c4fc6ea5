"""torch.backends.cudnn: ``benchmark``/``deterministic``/``enabled``/``allow_tf32`` are recorded; ember
has no cuDNN, so ``is_available()`` is False."""
benchmark = False
deterministic = False
enabled = True
allow_tf32 = True


def is_available():
    return False


def version():
    return None
