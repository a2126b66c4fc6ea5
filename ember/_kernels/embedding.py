"""Embedding kernels: the weight gradient of a lookup, a scatter-add of gradient rows into a zeroed
(num_embeddings, dim) array.

The NumPy path sorts the indices and sums each run with ``np.add.reduceat`` (``np.add.at`` is slow);
here the rows are added in place in input order, which is the order each run is summed in there.
"""
from .. import _jit


@_jit.kernel
def index_add_rows(idx, rows, out):
    """out[idx[i]] += rows[i] for each i (float32 or float64; rows (n, D), out (num, D))."""
    for i in range(idx.shape[0]):
        dst, src = out[idx[i]], rows[i]
        for j in range(src.shape[0]):
            dst[j] += src[j]
