"""ember.optim: torch.optim's optimizers and learning-rate schedulers, updating NumPy arrays in place."""
from .optimizer import Optimizer, required, register_optimizer_step_pre_hook, register_optimizer_step_post_hook
from .sgd import SGD
from .adam import Adam
from .adamw import AdamW
from .rmsprop import RMSprop
from .adagrad import Adagrad
from .adadelta import Adadelta
from .adamax import Adamax
from .nadam import NAdam
from .radam import RAdam
from .asgd import ASGD
from .rprop import Rprop
from .lbfgs import LBFGS
from .adafactor import Adafactor
from .muon import Muon

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
           "ASGD", "Rprop", "LBFGS", "Adafactor", "Muon", "register_optimizer_step_pre_hook",
           "register_optimizer_step_post_hook"]

from . import lr_scheduler  # noqa: E402
from . import swa_utils  # noqa: E402
