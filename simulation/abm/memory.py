"""Keep the memory a year frees for the next chunk's temporaries (glibc's ``mallopt``).

The vectorized engine works through the firms in chunks (``engine.VectorEngine.CHUNK_ROWS``), and
each chunk's firm-year allocates and frees the same few dozen temporaries of up to 256 KiB. By
default glibc gives freed memory back to the system: blocks above an adaptive threshold (128 KiB
at first) are unmapped when freed, and the heap is trimmed whenever more than twice that lies free
at its top, so the next chunk faults its pages in again, a few microseconds each on a virtual
machine (``python benchmarks/bench.py --profile``: about 420 minor page faults a year with 50 runs
side by side and 210 at 100,000 firms before; after, none in some runs but about as many in others:
five runs on one machine gave 0, 401, 0, 443 and 447 a year with 50 runs side by side and 80, 0,
0, 75 and 0 at 100,000 firms, so glibc still returns memory in some layouts, and the time it saves is within
the shared machine's noise). ``keep_freed_memory`` fixes both thresholds once per
process: blocks below ``MMAP_THRESHOLD_BYTES`` come from the heap, and the heap keeps up to
``TRIM_THRESHOLD_BYTES`` of free memory for reuse. Peak memory is unchanged (a process only keeps
what it had already used); the numbers are the same bits (only where memory comes from changes).
Elsewhere than glibc (macOS, Windows, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h>
MMAP_THRESHOLD_BYTES = 32 << 20  # the largest threshold glibc's own adaptive rule would reach (64-bit)
TRIM_THRESHOLD_BYTES = 64 << 20  # free memory the heap keeps at its top before giving it back

_kept: bool | None = None  # whether the thresholds are set (None: not tried yet in this process)


def keep_freed_memory() -> bool:
    """Set glibc's trim and mmap thresholds (once per process); True where they are set."""
    global _kept
    if _kept is None:
        _kept = False
        name = ctypes.util.find_library("c") if platform.libc_ver()[0] == "glibc" else None
        mallopt = getattr(ctypes.CDLL(name), "mallopt", None) if name else None
        if mallopt is not None:
            _kept = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
                mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
    return _kept
