"""``abm.memory``: glibc's thresholds set once per process where glibc is there, nothing elsewhere."""

import platform

import pytest
from valuechain.simulation.abm import memory


def test_thresholds_are_set_once_where_glibc_is_the_c_library(monkeypatch) -> None:
    calls = []

    class Libc:
        def mallopt(self, option, value):
            calls.append((option, value))
            return 1

    monkeypatch.setattr(memory, "_kept", None)
    monkeypatch.setattr(memory.platform, "libc_ver", lambda: ("glibc", "2.36"))
    monkeypatch.setattr(memory.ctypes.util, "find_library", lambda name: "libc.so.6")
    monkeypatch.setattr(memory.ctypes, "CDLL", lambda name: Libc())
    assert memory.keep_freed_memory() is True
    assert memory.keep_freed_memory() is True  # the second call changes nothing
    assert calls == [(memory.M_MMAP_THRESHOLD, 32 << 20), (memory.M_TRIM_THRESHOLD, 64 << 20)]


def test_nothing_is_set_without_glibc(monkeypatch) -> None:
    monkeypatch.setattr(memory, "_kept", None)
    monkeypatch.setattr(memory.platform, "libc_ver", lambda: ("", ""))
    monkeypatch.setattr(memory.ctypes, "CDLL", lambda name: pytest.fail("no C library is loaded"))
    assert memory.keep_freed_memory() is False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_a_vectorized_model_sets_them_in_this_process(monkeypatch) -> None:
    from conftest import ROOT
    from valuechain.simulation.abm.model import ValueChainModel
    from valuechain.simulation.config.scenario import load_scenario

    monkeypatch.setattr(memory, "_kept", None)  # as in a fresh process
    ValueChainModel(load_scenario(ROOT / "scenarios" / "baseline.yaml", ["replications=1"]), rng=1)
    assert memory._kept is True
