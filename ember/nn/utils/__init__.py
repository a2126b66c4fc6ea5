"""ember.nn.utils: gradient clipping, parameter vectors, weight and spectral norm, parametrize."""
from . import rnn  # noqa: F401
