"""torch.nn.parallel: ``DataParallel``. ember runs on one device per process, so DataParallel wraps the
module and calls it on the whole batch (what torch does when it finds no GPUs or one); its state_dict
keys carry the ``module.`` prefix, as torch's do."""
from ..modules.module import Module

__all__ = ["DataParallel"]


class DataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = [] if device_ids is None else list(device_ids)
        self.output_device = output_device
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
