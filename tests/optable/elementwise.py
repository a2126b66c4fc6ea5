import numpy as np

from . import OpInfo, randn, positive, unit, UNARY_SHAPES, BINARY_SHAPES


def _unary(name, gen=randn, **kw):
    return OpInfo(name, lambda lib, x, n=name: getattr(lib, n)(x),
                  lambda rng: [(gen(rng, *s),) for s in UNARY_SHAPES], **kw)


def _method(name, gen=randn, **kw):
    return OpInfo("Tensor." + name, lambda lib, x, n=name: getattr(x, n)(),
                  lambda rng: [(gen(rng, *s),) for s in UNARY_SHAPES], **kw)


def _binary(name, gen_a=randn, gen_b=randn, **kw):
    return OpInfo(name, lambda lib, a, b, n=name: getattr(lib, n)(a, b),
                  lambda rng: [(gen_a(rng, *sa), gen_b(rng, *sb)) for sa, sb in BINARY_SHAPES], **kw)


def _away_from_int(rng, *shape):
    return np.asarray(rng.integers(-3, 3, shape) + rng.uniform(0.1, 0.9, shape))  # 0-d stays an array


def _nonzero(rng, *shape):
    return np.asarray(rng.choice([-1, 1], shape) * rng.uniform(0.5, 2, shape))


OPS = [
    _unary("exp"), _unary("exp2"), _unary("expm1"), _unary("log", positive), _unary("log2", positive),
    _unary("log10", positive), _unary("log1p", positive), _unary("sqrt", positive), _unary("rsqrt", positive),
    _unary("sin"), _unary("cos"), _unary("tan", unit), _unary("asin", unit), _unary("acos", unit),
    _unary("atan"), _unary("sinh"), _unary("cosh"), _unary("tanh"), _unary("asinh"),
    _unary("acosh", lambda rng, *s: positive(rng, *s, low=1.5, high=3)), _unary("atanh", unit),
    _unary("sigmoid"), _unary("erf"), _unary("erfc"), _unary("erfinv", unit), _unary("reciprocal", _nonzero),
    _unary("neg"), _unary("abs", _nonzero), _unary("square"), _unary("sign", _nonzero),
    _unary("floor", _away_from_int), _unary("ceil", _away_from_int), _unary("trunc", _away_from_int),
    _unary("round", _away_from_int), _unary("frac", _away_from_int), _unary("lgamma", positive),
    _unary("isnan", grad=False), _unary("isinf", grad=False), _unary("isfinite", grad=False),
    _unary("logical_not", grad=False), _unary("signbit", grad=False),
    OpInfo("logit", lambda lib, x: lib.logit(x), lambda rng: [(rng.uniform(0.1, 0.9, (3, 4)),)]),
    OpInfo("logit_eps", lambda lib, x: lib.logit(x, eps=0.2), lambda rng: [(rng.uniform(0.1, 0.9, (3, 4)),)],
           gradcheck=False),
    OpInfo("nan_to_num", lambda lib, x: lib.nan_to_num(x / 0.0 * x, nan=1.5, posinf=2.0),
           lambda rng: [(randn(rng, 3, 4),)], grad=False),
    _binary("add"), _binary("sub"), _binary("mul"), _binary("div", randn, _nonzero),
    _binary("pow", positive, randn), _binary("maximum"), _binary("minimum"), _binary("atan2", randn, _nonzero),
    _binary("fmod", randn, _nonzero, gradgrad=False), _binary("remainder", randn, _nonzero, gradgrad=False),
    _binary("hypot", _nonzero, _nonzero), _binary("fmax"), _binary("fmin"),
    _binary("eq", grad=False), _binary("ne", grad=False), _binary("lt", grad=False), _binary("le", grad=False),
    _binary("gt", grad=False), _binary("ge", grad=False),
    _binary("logical_and", grad=False), _binary("logical_or", grad=False), _binary("logical_xor", grad=False),
    OpInfo("add_alpha", lambda lib, a, b: lib.add(a, b, alpha=2.5), lambda rng: [(randn(rng, 3), randn(rng, 3))]),
    OpInfo("sub_alpha", lambda lib, a, b: lib.sub(a, b, alpha=0.5), lambda rng: [(randn(rng, 3), randn(rng, 2, 3))]),
    OpInfo("div_floor", lambda lib, a, b: lib.div(a, b, rounding_mode="floor"),
           lambda rng: [(randn(rng, 3, 4), _nonzero(rng, 3, 4))], grad=False),
    OpInfo("div_trunc", lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"),
           lambda rng: [(randn(rng, 3, 4), _nonzero(rng, 3, 4))], grad=False),
    OpInfo("pow_scalar", lambda lib, a: a ** 3, lambda rng: [(randn(rng, 3, 4),), (randn(rng),)]),
    OpInfo("pow_scalar_frac", lambda lib, a: lib.pow(a, 0.5), lambda rng: [(positive(rng, 3, 4),)]),
    OpInfo("rpow", lambda lib, a: 2.0 ** a, lambda rng: [(randn(rng, 3, 4),)]),
    OpInfo("rsub", lambda lib, a: 1.5 - a, lambda rng: [(randn(rng, 3, 4),)]),
    OpInfo("rdiv", lambda lib, a: 2.0 / a, lambda rng: [(_nonzero(rng, 3, 4),)]),
    OpInfo("scalar_mul_add", lambda lib, a: a * 2.5 + 1, lambda rng: [(randn(rng, 3, 4),), (randn(rng),)]),
    OpInfo("where", lambda lib, a, b: lib.where(a > 0, a, b),
           lambda rng: [(randn(rng, 3, 4), randn(rng, 3, 4)), (randn(rng, 3, 1), randn(rng, 4))]),
    OpInfo("where_scalar", lambda lib, a: lib.where(a > 0, a, 0.0), lambda rng: [(randn(rng, 3, 4),)]),
    OpInfo("clamp", lambda lib, a: lib.clamp(a, -0.5, 0.5), lambda rng: [(randn(rng, 3, 4),), (randn(rng),)]),
    OpInfo("clamp_min", lambda lib, a: a.clamp(min=0.1), lambda rng: [(randn(rng, 3, 4),)]),
    OpInfo("clamp_tensor", lambda lib, a, lo, hi: lib.clamp(a, lo, hi),
           lambda rng: [(randn(rng, 3, 4), -positive(rng, 3, 4), positive(rng, 4))], gradcheck=False),
    OpInfo("lerp", lambda lib, a, b: lib.lerp(a, b, 0.3), lambda rng: [(randn(rng, 3, 4), randn(rng, 3, 4))]),
    OpInfo("lerp_tensor_weight", lambda lib, a, b, w: lib.lerp(a, b, w),
           lambda rng: [(randn(rng, 3, 4), randn(rng, 3, 4), unit(rng, 4))]),
    OpInfo("addcmul", lambda lib, a, b, c: lib.addcmul(a, b, c, value=0.5),
           lambda rng: [(randn(rng, 3, 4), randn(rng, 3, 4), randn(rng, 1, 4))]),
    OpInfo("addcdiv", lambda lib, a, b, c: lib.addcdiv(a, b, c, value=0.5),
           lambda rng: [(randn(rng, 3, 4), randn(rng, 3, 4), _nonzero(rng, 3, 4))]),
    OpInfo("xlogy", lambda lib, a, b: lib.xlogy(a, b), lambda rng: [(randn(rng, 3, 4), positive(rng, 3, 4))]),
    OpInfo("copysign", lambda lib, a, b: lib.copysign(a, b),
           lambda rng: [(_nonzero(rng, 3, 4), _nonzero(rng, 3, 4))], gradcheck=False),
]
