"""The torch.* and Tensor.* names that torch implements in nn.functional (torch.relu, x.softmax, ...)."""
from .._ops._util import install
from .functional import _activation as A, _dropout as D, _linear as L

__all__ = ["relu", "relu_", "softmax", "log_softmax", "selu", "selu_", "celu", "celu_", "rrelu", "rrelu_",
           "prelu", "threshold", "threshold_", "hardshrink", "dropout", "dropout_", "alpha_dropout",
           "feature_alpha_dropout", "feature_dropout", "bilinear"]

relu, relu_, selu, selu_, celu, celu_, prelu = A.relu, A.relu_, A.selu, A.selu_, A.celu, A.celu_, A.prelu
threshold, threshold_, hardshrink, rrelu_ = A.threshold, A.threshold_, A.hardshrink, A.rrelu_
bilinear = L.bilinear


def softmax(input, dim, dtype=None):
    return A.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, dtype=None):
    return A.log_softmax(input, dim, dtype=dtype)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    return A.rrelu(input, lower, upper, training)


def dropout(input, p, train):
    return D.dropout(input, p, train)


def dropout_(input, p, train):
    return D.dropout(input, p, train, inplace=True)


def alpha_dropout(input, p, train):
    return D.alpha_dropout(input, p, train)


def feature_alpha_dropout(input, p, train):
    return D.feature_alpha_dropout(input, p, train)


def feature_dropout(input, p, train):
    return D._feature_dropout(input, p, train, False)


install(relu=relu, relu_=relu_, softmax=lambda self, dim, dtype=None: A.softmax(self, dim, dtype=dtype),
        log_softmax=lambda self, dim, dtype=None: A.log_softmax(self, dim, dtype=dtype),
        prelu=prelu, hardshrink=lambda self, lambd=0.5: A.hardshrink(self, lambd))
