"""Shape kernels: copies that NumPy's element-by-element strided loops make slow.

``copy_transposed`` writes a (N, R, C) array whose last two axes are swapped in memory (its C axis
has the large stride, as the gradient of ``k.transpose(-2, -1)`` in attention has) into any (N, R, C)
destination, in 16 x 16 tiles: each tile's reads and writes stay within a few cache lines. NumPy walks
the destination in order and reads one element per source cache line.
"""
from .. import _jit

_TILE = 16


@_jit.kernel
def copy_transposed(src_t, out):
    """out[n, r, c] = src_t[n, c, r] for src_t: (N, C, R), out: (N, R, C)."""
    n_, c_, r_ = src_t.shape
    for n in range(n_):
        s, d = src_t[n], out[n]
        for r0 in range(0, r_, _TILE):
            r1 = min(r0 + _TILE, r_)
            for c0 in range(0, c_, _TILE):
                c1 = min(c0 + _TILE, c_)
                if r1 - r0 == _TILE and c1 - c0 == _TILE:  # a full tile: constant trip counts
                    for c in range(_TILE):
                        for r in range(_TILE):
                            d[r0 + r, c0 + c] = s[c0 + c, r0 + r]
                else:
                    for c in range(c0, c1):
                        for r in range(r0, r1):
                            d[r, c] = s[c, r]
