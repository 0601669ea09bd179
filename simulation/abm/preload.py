"""What the sweep's fork server loads before it forks workers, beyond imports
(``running.executors.PRELOAD``): the compiled kernels (``compiled.compiled_kernels``: numba's
import, the kernels' module and their cached machine code, about 0.6 s of CPU in a process), so
that every worker inherits them instead of loading them again. The choice is the same as a
worker's own would be; the bits are the same either way (``tests/test_kernels.py``)."""

from __future__ import annotations

from .compiled import compiled_kernels

try:
    compiled_kernels()
except Exception:  # noqa: BLE001  (a bad VALUECHAIN_KERNELS, say: each worker then decides, and refuses, itself)
    pass
