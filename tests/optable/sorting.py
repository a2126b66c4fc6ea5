"""Op-table entries for sorting and order statistics (every op here picks or interpolates input
elements, so gradients flow back to the picked positions)."""
from . import OpInfo, randn


def _s(name, fn, *shapes_list, **kw):
    return OpInfo(name, fn, lambda rng: [tuple(randn(rng, *s) for s in shapes) for shapes in shapes_list], **kw)


_SHAPES = [[(3, 5)], [(4,)], [()]]


def _q(lib, x, qs):
    return lib.tensor(qs, dtype=x.dtype, device=x.device)


OPS = [
    _s("sort", lambda lib, x: lib.sort(x), *_SHAPES),
    _s("sort_desc_dim0", lambda lib, x: x.sort(dim=0, descending=True), [(4, 3)], [(0, 2)]),
    _s("sort_stable_kw", lambda lib, x: lib.sort(x, stable=True, dim=1), [(2, 3, 4)]),
    _s("argsort_take", lambda lib, x: lib.take_along_dim(x, x.argsort(dim=1, descending=True), dim=1), [(3, 5)]),
    _s("msort", lambda lib, x: lib.msort(x), [(4, 3)]),
    _s("topk", lambda lib, x: x.topk(2), [(3, 5)], [(4,)]),
    _s("topk_smallest_dim0", lambda lib, x: lib.topk(x, 3, dim=0, largest=False), [(4, 3)]),
    _s("topk_0d", lambda lib, x: x.topk(1), [()]),
    _s("kthvalue", lambda lib, x: x.kthvalue(2), [(3, 5)], [(4,)], [(2,)]),
    _s("kthvalue_keepdim", lambda lib, x: lib.kthvalue(x, 3, dim=0, keepdim=True), [(4, 3)]),
    _s("median_all", lambda lib, x: x.median(), [(3, 5)], [(4,)], [()]),
    _s("median_dim", lambda lib, x: x.median(dim=1), [(3, 5)], [(3, 4)]),
    _s("median_dim_keepdim", lambda lib, x: lib.median(x, 0, keepdim=True), [(4, 3)], [()]),
    _s("nanmedian_all", lambda lib, x: x.nanmedian(), [(3, 5)]),
    _s("nanmedian_dim", lambda lib, x: x.nanmedian(1), [(3, 5)]),
    _s("mode", lambda lib, x: x.mode(), [(3, 5)], [()]),
    _s("mode_repeats", lambda lib, x: lib.mode(x.round(), 0), [(6, 3)], gradcheck=False),
    _s("cummax", lambda lib, x: x.cummax(1), [(3, 5)]),
    _s("cummax_0d", lambda lib, x: x.cummax(-1), [()]),
    _s("cummin", lambda lib, x: lib.cummin(x, 0), [(4, 3)], [(0, 3)]),
    _s("cummax_ties", lambda lib, x: x.clamp(max=0.2).cummax(0), [(6, 2)], gradcheck=False),
    _s("quantile", lambda lib, x: x.quantile(0.3), [(3, 5)], [()]),
    _s("quantile_dim_q", lambda lib, x: lib.quantile(x, _q(lib, x, [0.1, 0.5, 1.0]), dim=1, keepdim=True), [(3, 5)]),
    _s("quantile_all_keepdim", lambda lib, x: x.quantile(_q(lib, x, [0.2, 0.6]), keepdim=True), [(2, 3)]),
    *[_s(f"quantile_{m}", (lambda m: lambda lib, x: x.quantile(_q(lib, x, [0.125, 0.37, 0.5]), dim=0,
                                                                interpolation=m))(m), [(5, 3)])
      for m in ("lower", "higher", "midpoint", "nearest")],
    _s("nanquantile", lambda lib, x: lib.nanquantile(x, 0.4, dim=1), [(3, 5)]),
]
