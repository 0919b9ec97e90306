"""Keep freed memory in the process, so a training step does not page-fault on every array.

A layer's outputs and gradients are fresh arrays (6-13 MB each for the DCGAN at batch
256, about a hundred a step). glibc's ``malloc`` hands them out from the heap, and when
more than ``M_TRIM_THRESHOLD`` bytes lie free at its top it gives them back to the
kernel (or, for the largest requests, maps and unmaps fresh pages every time). The next
array of that size is then new memory: the kernel zeroes it, one page fault per page, on
first touch. Measured on the benchmark machine (docs/performance.md): ~11,000 page faults
and ~50 ms of system time in every DCGAN step of ~600 ms.

:func:`retain_freed_memory` tells ``malloc`` to keep what it frees (the same as starting
Python with ``MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647``): the heap grows to
the step's peak once (about 650 MiB for the DCGAN at batch 256) and then serves every step from
pages it already has. It changes the C allocator's policy for the whole process, so the
library never calls it: a program opts in (``--retain-memory`` on the command line). It
changes nothing else, and is a no-op where the C library has no ``mallopt`` (macOS, musl).
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD = -1  # from glibc's <malloc.h>
_M_MMAP_MAX = -4
_INT_MAX = 2**31 - 1


def retain_freed_memory() -> bool:
    """Keep freed memory in the heap (no trimming, no ``mmap``); True where it took effect."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(_M_MMAP_MAX, 0) == 1 and mallopt(_M_TRIM_THRESHOLD, _INT_MAX) == 1
