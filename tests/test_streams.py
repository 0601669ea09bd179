"""A year's random streams of many runs at once (``abm.streams``): the same pools, seed words and
draws as numpy's ``SeedSequence`` and ``default_rng`` (common random numbers intact)."""

import numpy as np
import pytest
from valuechain.simulation.abm import streams

EDGES = [0, 1, 2**32 - 1, 2**32, 2**63 - 1, 2**64 - 1]  # one-word roots, the largest a run draws, and beyond
ROOTS = EDGES + [int(r) for r in np.random.default_rng(4).integers(2**63, size=40)]


def test_pools_and_seed_words_are_numpys():
    keys = [(2017, p) for p in range(4)] + [(2050, 3)]
    entropy = streams.entropy_words(ROOTS, keys)
    pools = streams.pools(entropy)
    words = streams.state_words(pools)
    pairs = [(root, key) for root in ROOTS for key in keys]
    for (root, key), pool, word in zip(pairs, pools, words):
        sequence = np.random.SeedSequence(root, spawn_key=key)
        assert np.array_equal(pool, sequence.pool)
        assert np.array_equal(word, sequence.generate_state(4, np.uint64))


def test_the_compiled_seed_words_are_numpys():
    """``kernels.seed_words`` (the compiled path of ``year_generators``): the words of ``state_words(pools(...))``."""
    from valuechain.simulation.abm import kernels

    keys = [(2017, p) for p in range(4)] + [(2050, 3), (0, 0), (2**32 - 1, 2**32 - 1)]
    entropy = streams.entropy_words(ROOTS, keys)
    words = np.empty((entropy.shape[0], 4), dtype=np.uint64)
    kernels.seed_words(entropy, words)
    assert np.array_equal(words, streams.state_words(streams.pools(entropy)))
    sequence = np.random.SeedSequence(2**64 - 1, spawn_key=(2**32 - 1, 2**32 - 1))
    last = ROOTS.index(2**64 - 1) * len(keys) + len(keys) - 1  # that root's last key
    assert np.array_equal(words[last], sequence.generate_state(4, np.uint64))


@pytest.mark.parametrize("path", ["numpy", "numba"])
def test_year_generators_draw_what_default_rng_draws(monkeypatch, path):
    monkeypatch.setenv("VALUECHAIN_KERNELS", path)
    gens = streams.year_generators(ROOTS, 2031, 4)
    assert len(gens) == len(ROOTS) and all(len(g) == 4 for g in gens)
    for root, run in zip(ROOTS, gens):
        for purpose, gen in enumerate(run):
            numpy_gen = np.random.default_rng(np.random.SeedSequence(root, spawn_key=(2031, purpose)))
            assert gen.bit_generator.state == numpy_gen.bit_generator.state
            assert np.array_equal(gen.normal(0.0, 1.0, 9), numpy_gen.normal(0.0, 1.0, 9))
            assert np.array_equal(gen.random(5), numpy_gen.random(5))
            assert np.array_equal(gen.lognormal(-0.1, 0.4, 3), numpy_gen.lognormal(-0.1, 0.4, 3))


def test_the_model_steps_on_the_streams_it_names():
    """``ValueChainModel.stream`` (one generator, from numpy) and the year's generators agree."""
    from conftest import ROOT
    from valuechain.simulation.abm.model import ValueChainModel
    from valuechain.simulation.config.scenario import load_scenario

    model = ValueChainModel(load_scenario(ROOT / "scenarios" / "baseline.yaml", ["replications=1"]),
                            rngs=np.random.SeedSequence(3).spawn(2))
    gens = streams.year_generators(model._stream_roots, model.year, 4)
    for run in range(2):
        for purpose in range(4):
            assert gens[run][purpose].bit_generator.state == model.stream(model.year, purpose, run).bit_generator.state


def test_words_outside_32_bits_are_refused():
    with pytest.raises(ValueError, match="spawn keys of 32-bit words only"):
        streams.entropy_words([1], [(2**32, 0)])
    with pytest.raises(ValueError, match="roots below 2\\^64"):
        streams.entropy_words([2**64], [(2020, 0)])
