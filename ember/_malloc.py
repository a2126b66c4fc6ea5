"""Keep freed array memory in the process heap (glibc), like torch's caching allocator.

By default glibc serves every allocation above 128 KiB with a fresh mmap and unmaps it on free, so
each op on a mid-sized tensor pays page faults on memory it just gave back: a (64, 784) float32
add costs about 3x its arithmetic. Raising the mmap and trim thresholds lets such buffers be reused.
Memory then stays at its peak instead of shrinking, which is what torch does too.
Set EMBER_MALLOC_TUNING=0 to leave the allocator alone.
"""
import ctypes
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def _configure():
    if os.environ.get("EMBER_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, 256 << 20) == 1
        return libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30) == 1 and ok
    except (OSError, AttributeError):  # not glibc (musl, ...): leave the allocator alone
        return False


enabled = _configure()
