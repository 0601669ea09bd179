"""Which path the engine's compiled steps take: the kernels of ``abm.kernels`` (numba) or numpy's.

The settle step (``engine.VectorEngine.settle``), the turnover's picks (``model.ValueChainModel._turnover``),
a rebuild of the layout (``state.FirmState._rebuild``) and the year's seed words
(``streams.year_generators``) ask :func:`compiled_kernels` each time; numpy's path is the reference,
the kernels give its bits (``tests/test_kernels.py``). The settle step of the years with interest
subsidies, tax holidays or subsidised-loan vintages has its kernel in ``abm.kernels_finance``
(:func:`finance_kernels`).
"""

from __future__ import annotations

import functools

from ..config.scenario import kernels_choice


def compiled_kernels():
    """The compiled kernels (module ``kernels``), or None for numpy's path: when ``VALUECHAIN_KERNELS``
    is ``numpy`` (``config.scenario.kernels_choice``), when numba does not import, or when the
    kernels' sums and extrema are not this numpy's bits (``kernels.agrees_with_numpy``, checked
    once, on first use)."""
    return None if kernels_choice() == "numpy" else _loaded_kernels()


@functools.cache
def _loaded_kernels():
    try:
        from . import kernels
    except ImportError:  # numba missing (or not importable here): numpy's path
        return None
    except RuntimeError:  # numba without a writable cache folder (beside the module, or the user's): numpy's path
        return None
    return kernels if kernels.agrees_with_numpy() else None


def finance_kernels():
    """The settle kernel of the years with interest subsidies, tax holidays or subsidised-loan
    vintages (module ``kernels_finance``), or None for numpy's path: whenever :func:`compiled_kernels`
    is None (it builds on their sums and extrema), and where the helpers it builds in from ``kernels``
    are not the ones stamped in it (``kernels_finance.HELPERS_STAMP``: numba's cache, keyed on that
    file only, could hold machine code compiled with other helpers)."""
    return _loaded_finance() if compiled_kernels() is not None else None


@functools.cache
def _loaded_finance():
    try:
        from . import kernels_finance

        stamped = kernels_finance.helpers_stamp() == kernels_finance.HELPERS_STAMP
    except (ImportError, RuntimeError, OSError):  # as ``_loaded_kernels``; OSError: no source to stamp
        return None
    return kernels_finance if stamped else None
