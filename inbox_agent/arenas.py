"""glibc's malloc arenas: a worker process keeps two, not one per thread.

glibc gives each new thread that allocates an arena of its own, up to eight per core, and memory
freed in one arena is not reused by another thread's. A worker runs a dozen threads (the stage
loops, the IDLE watch, the leader check), so its heap was spread over as many arenas: ~30 MB more
resident memory than the same work on two (docs/scaling.md). Python runs one thread at a time
under the GIL, so two arenas cost no contention worth measuring. A MALLOC_ARENA_MAX set in the
environment is left as it is; without glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's <malloc.h>


def limit_malloc_arenas(count: int = MALLOC_ARENAS) -> bool:
    """Cap the arenas of the threads started from now on at `count`; False where not done."""
    if platform.libc_ver()[0] != "glibc" or "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c")).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, count))
