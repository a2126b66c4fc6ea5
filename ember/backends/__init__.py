"""torch.backends: flags programs set; ember's CPU path has no cuDNN/MPS/MKL-DNN switches to honour."""
import types

cudnn = types.SimpleNamespace(benchmark=False, deterministic=False, enabled=True, allow_tf32=True,
                              is_available=lambda: False, version=lambda: None)
cuda = types.SimpleNamespace(matmul=types.SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True),
                             is_built=lambda: False, flash_sdp_enabled=lambda: False)
mps = types.SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
mkldnn = types.SimpleNamespace(enabled=False, is_available=lambda: False)
openmp = types.SimpleNamespace(is_available=lambda: True)
opt_einsum = types.SimpleNamespace(enabled=True, strategy="auto", is_available=lambda: True)
