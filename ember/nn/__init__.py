"""ember.nn: modules, parameters, functional, init and utils, with torch.nn's names."""
from .parameter import Parameter, UninitializedParameter, UninitializedBuffer, Buffer  # noqa: F401
from .modules import *  # noqa: F401,F403
from . import functional, init, utils, parallel, attention  # noqa: F401
from .parallel import DataParallel  # noqa: F401
