from . import OpInfo, randn, positive


def _m(name, fn, *shapes_list, **kw):
    return OpInfo(name, fn, lambda rng: [tuple(randn(rng, *s) for s in shapes) for shapes in shapes_list], **kw)


OPS = [
    _m("select", lambda lib, x: x.select(1, -1), [(3, 4)]),
    _m("select_scatter", lambda lib, x, s: lib.select_scatter(x, s, 0, 1), [(3, 4), (4,)]),
    _m("slice_scatter", lambda lib, x, s: lib.slice_scatter(x, s, 1, 0, 4, 2), [(3, 4), (3, 2)]),
    _m("unfold", lambda lib, x: x.unfold(-1, 3, 2), [(2, 7)], [(9,)]),
    _m("unfold_overlap", lambda lib, x: x.unfold(0, 2, 1), [(5, 2)]),
    _m("logaddexp", lambda lib, a, b: lib.logaddexp(a, b), [(3, 4), (4,)]),
    _m("logaddexp2", lambda lib, a, b: lib.logaddexp2(a, b), [(3, 4), (3, 4)]),
    _m("deg2rad", lambda lib, x: lib.deg2rad(x), [(3,)]),
    _m("rad2deg", lambda lib, x: x.rad2deg(), [(3,)]),
    _m("sinc", lambda lib, x: lib.sinc(x), [(3, 4)]),
    _m("hsplit", lambda lib, x: lib.hsplit(x, 2), [(3, 4)]),
    _m("vsplit", lambda lib, x: x.vsplit([1, 2]), [(3, 4)]),
    _m("ldexp", lambda lib, x: lib.ldexp(x, lib.tensor([1, 2, 3], device=x.device)), [(2, 3)], gradgrad=False),
    OpInfo("gcd", lambda lib, a, b: lib.gcd(a, b), lambda rng: [(rng.integers(0, 30, (5,)), rng.integers(1, 30, (5,)))],
           grad=False),
    OpInfo("lcm", lambda lib, a, b: lib.lcm(a, b), lambda rng: [(rng.integers(1, 30, (5,)), rng.integers(1, 30, (5,)))],
           grad=False),
]
