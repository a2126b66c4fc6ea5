import numpy as np

from . import OpInfo, randn, positive


def _red(name, dims=(None, 0, -1, (0, 1)), keepdim=(False, True), gen=randn, shape=(3, 4, 2), **kw):
    def fn(lib, x, dim, keep, n=name):
        f = getattr(lib, n)
        return f(x) if dim is None else f(x, dim, keepdim=keep)
    return OpInfo(name, fn, lambda rng: [(gen(rng, *shape), d, k) for d in dims for k in keepdim], **kw)


OPS = [
    _red("sum"), _red("mean"), _red("amax", dims=(0, -1, (0, 2))), _red("amin", dims=(0, (1, 2))),
    _red("logsumexp", dims=(0, -1, (0, 1))), _red("prod", dims=(None, 0, 2), gen=positive),
    _red("nansum", dims=(None, 1)),
    OpInfo("sum_0d", lambda lib, x: x.sum(), lambda rng: [(randn(rng),), (randn(rng, 0, 3),)]),
    OpInfo("sum_dtype", lambda lib, x: x.sum(dtype=lib.float64), lambda rng: [(randn(rng, 3, 4),)],
           dtypes=("float32",)),
    OpInfo("max_all", lambda lib, x: x.max(), lambda rng: [(randn(rng, 3, 4),)]),
    OpInfo("min_all", lambda lib, x: x.min(), lambda rng: [(randn(rng, 3, 4),)]),
    OpInfo("max_dim", lambda lib, x, d, k: lib.max(x, d, keepdim=k),
           lambda rng: [(randn(rng, 3, 4), d, k) for d in (0, 1, -1) for k in (False, True)]),
    OpInfo("min_dim", lambda lib, x, d: x.min(dim=d), lambda rng: [(randn(rng, 3, 4), d) for d in (0, 1)]),
    OpInfo("argmax", lambda lib, x, d: lib.argmax(x, d), lambda rng: [(randn(rng, 3, 4), d) for d in (None, 0, 1)],
           grad=False),
    OpInfo("argmin", lambda lib, x, d: x.argmin(d, keepdim=True), lambda rng: [(randn(rng, 3, 4), d) for d in (0, 1)],
           grad=False),
    OpInfo("var", lambda lib, x, d, c: lib.var(x, d, correction=c),
           lambda rng: [(randn(rng, 3, 4), d, c) for d in (None, 0, (0, 1)) for c in (0, 1)]),
    OpInfo("std", lambda lib, x, d: x.std(d, keepdim=True), lambda rng: [(randn(rng, 3, 4), d) for d in (0, 1)]),
    OpInfo("std_unbiased_false", lambda lib, x: x.std(unbiased=False), lambda rng: [(randn(rng, 5),)]),
    OpInfo("var_mean", lambda lib, x: lib.var_mean(x, 1), lambda rng: [(randn(rng, 3, 4),)]),
    OpInfo("std_mean", lambda lib, x: lib.std_mean(x, 0, keepdim=True), lambda rng: [(randn(rng, 3, 4),)]),
    OpInfo("all", lambda lib, x, d: lib.all(x > 0) if d is None else (x > 0).all(d),
           lambda rng: [(randn(rng, 3, 4), d) for d in (None, 0, 1)], grad=False),
    OpInfo("any", lambda lib, x, d: lib.any(x > 0) if d is None else (x > 0).any(d, keepdim=True),
           lambda rng: [(randn(rng, 3, 4), d) for d in (None, 0, 1)], grad=False),
    OpInfo("count_nonzero", lambda lib, x, d: lib.count_nonzero(x > 0, d),
           lambda rng: [(randn(rng, 3, 4), d) for d in (None, 0, (0, 1))], grad=False),
    OpInfo("cumsum", lambda lib, x, d: lib.cumsum(x, d), lambda rng: [(randn(rng, 3, 4), d) for d in (0, 1, -1)]),
    OpInfo("cumprod", lambda lib, x, d: x.cumprod(d), lambda rng: [(positive(rng, 3, 4), d) for d in (0, 1)]),
    OpInfo("cumprod_zeros", lambda lib, x: lib.cumprod(x * (x > 0.3), 1), lambda rng: [(randn(rng, 2, 5),)],
           gradcheck=False),
    OpInfo("sum_int", lambda lib, x: (x * 10).int().sum(0), lambda rng: [(randn(rng, 3, 4),)], grad=False),
    OpInfo("mean_keepdim_neg", lambda lib, x: x.mean((-1, -2), keepdim=True), lambda rng: [(randn(rng, 2, 3, 4),)]),
]
