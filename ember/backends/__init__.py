"""torch.backends: the flags programs set and query. ember's CPU path has no cuDNN/MPS/MKL-DNN switches to
honour, so the flags are recorded and the availability queries answer truthfully (False)."""
from . import cudnn, cuda, mps, mkldnn, openmp, opt_einsum  # noqa: F401
