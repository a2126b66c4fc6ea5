from . import OpInfo, randn


def _x(name, fn, *shapes_list, **kw):
    return OpInfo(name, fn, lambda rng: [tuple(randn(rng, *s) for s in shapes) for shapes in shapes_list], **kw)


OPS = [
    _x("block_diag", lambda lib, a, b, c: lib.block_diag(a, b, c), [(2, 3), (1, 2), (3,)]),
    _x("cartesian_prod", lambda lib, a, b: lib.cartesian_prod(a, b), [(3,), (2,)]),
    _x("combinations", lambda lib, a: lib.combinations(a, 2), [(4,)]),
    _x("combinations_repl", lambda lib, a: lib.combinations(a, 3, with_replacement=True), [(3,)]),
    _x("trapezoid", lambda lib, y: lib.trapezoid(y, dx=0.5), [(3, 5)]),
    _x("trapezoid_x", lambda lib, y, x: lib.trapezoid(y, x), [(3, 5), (5,)]),
    _x("cumulative_trapezoid", lambda lib, y: lib.cumulative_trapezoid(y, dim=0), [(4, 2)]),
    _x("vander", lambda lib, x: lib.vander(x, 4), [(3,)], grad=False),  # torch's own vander backward fails
    _x("vmap", lambda lib, a, b: lib.vmap(lambda u, v: (u * v).sum() + u.max())(a, b), [(4, 3), (4, 3)]),
    OpInfo("isin", lambda lib, a: lib.isin(a, lib.tensor([1, 3], device=a.device)), lambda rng: [(rng.integers(0, 5, (3, 4)),)],
           grad=False),
    # x only names the device the windows are made on
    OpInfo("windows", lambda lib, x: [lib.hann_window(8, device=x.device),
                                      lib.hamming_window(7, periodic=False, device=x.device),
                                      lib.blackman_window(6, device=x.device), lib.bartlett_window(5, device=x.device),
                                      lib.kaiser_window(6, device=x.device)],
           lambda rng: [(rng.standard_normal(1),)], grad=False, noncontiguous=False),
    OpInfo("unravel_index", lambda lib, i: lib.unravel_index(i, (3, 4)), lambda rng: [(rng.integers(0, 12, (5,)),)],
           grad=False),
]
