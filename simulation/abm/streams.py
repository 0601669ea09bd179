"""A year's random streams of many runs at once (issue 17): the generators
``np.random.default_rng(np.random.SeedSequence(root, spawn_key=(year, purpose)))``, bit for bit,
without building a ``SeedSequence`` for each.

A run draws each year's random numbers from one stream per purpose, seeded from its root and the
year (``ValueChainModel.stream``: common random numbers across scenarios). Making a
``SeedSequence`` and its generator costs about 15 microseconds, most of it numpy's hash of the seed
words; runs side by side need four streams a run and year. ``year_generators`` computes that hash
(numpy's ``SeedSequence``: pool of four words, ``mix_entropy``, ``generate_state``; fixed since
numpy 1.17, and NEP 19 keeps the streams of a seed stable) for every run and purpose in one pass of
uint32 arithmetic, and seeds each PCG64 with the words it would get (``SeedWords``, through numpy's
documented ``ISeedSequence`` interface). With the compiled kernels (``compiled.compiled_kernels``) the
words come from ``kernels.seed_words``, the same arithmetic in one compiled loop (a run's four
streams: about 0.1 ms less a year). ``tests/test_streams.py`` checks the pools, the words and the
draws against numpy's own, on both paths.
"""

from __future__ import annotations

import numpy as np
from numpy.random.bit_generator import ISeedSequence

from .compiled import compiled_kernels

POOL_WORDS = 4  # numpy's SeedSequence pool size
INIT_A, MULT_A = 0x43B0D7E5, 0x931E8875  # the hash of the entropy into the pool
INIT_B, MULT_B = 0x8B51F9DD, 0x58F38DED  # the hash of the pool into the state words
MIX_MULT_L, MIX_MULT_R = 0xCA01F9DD, 0x4973F715
XSHIFT = np.uint32(16)
MASK32 = 0xFFFFFFFF


class SeedWords(ISeedSequence):
    """Seed words already hashed (``state_words``): what the PCG64 of a ``SeedSequence`` asks for."""

    __slots__ = ("words",)

    def __init__(self, words: np.ndarray):
        self.words = words

    def generate_state(self, n_words, dtype=np.uint32):
        if n_words != self.words.size or np.dtype(dtype) != np.uint64:
            raise ValueError("SeedWords holds the four uint64 words a PCG64 asks for")
        return self.words


def entropy_words(roots: list[int], spawn_keys: list[tuple[int, ...]]) -> np.ndarray:
    """The uint32 entropy of ``SeedSequence(root, spawn_key=key)`` for each root and key (one row a
    pair, roots outer): the root's two 32-bit words (low first) padded with zeros to the pool size,
    then the key's words (each key entry below 2^32)."""
    if any(not 0 <= r < 2**64 for r in roots) or any(not 0 <= v <= MASK32 for key in spawn_keys for v in key):
        raise ValueError("streams: roots below 2^64 and spawn keys of 32-bit words only")
    rows = [[r & MASK32, r >> 32] + [0] * (POOL_WORDS - 2) + list(key) for r in roots for key in spawn_keys]
    return np.array(rows, dtype=np.uint32)


def pools(entropy: np.ndarray) -> np.ndarray:
    """``SeedSequence.pool`` of each row of entropy words (numpy's ``mix_entropy``), shape (rows, 4)."""
    hash_const = INIT_A

    def hashmix(value):
        nonlocal hash_const
        value = value ^ np.uint32(hash_const)
        hash_const = (hash_const * MULT_A) & MASK32
        value = value * np.uint32(hash_const)
        return value ^ (value >> XSHIFT)

    def mix(x, y):
        result = np.uint32(MIX_MULT_L) * x - np.uint32(MIX_MULT_R) * y
        return result ^ (result >> XSHIFT)

    with np.errstate(over="ignore"):  # arithmetic modulo 2^32
        mixer = [hashmix(entropy[:, i]) for i in range(POOL_WORDS)]
        for src in range(POOL_WORDS):
            for dst in range(POOL_WORDS):
                if src != dst:
                    mixer[dst] = mix(mixer[dst], hashmix(mixer[src]))
        for src in range(POOL_WORDS, entropy.shape[1]):
            for dst in range(POOL_WORDS):
                mixer[dst] = mix(mixer[dst], hashmix(entropy[:, src]))
    return np.stack(mixer, axis=1)


def state_words(pool: np.ndarray, n_words64: int = 4) -> np.ndarray:
    """``SeedSequence.generate_state(n_words64, np.uint64)`` of each pool, shape (rows, n_words64)."""
    hash_const = INIT_B
    words = []
    with np.errstate(over="ignore"):
        for i in range(2 * n_words64):
            value = pool[:, i % POOL_WORDS] ^ np.uint32(hash_const)
            hash_const = (hash_const * MULT_B) & MASK32
            value = value * np.uint32(hash_const)
            words.append(value ^ (value >> XSHIFT))
    w = np.stack(words, axis=1).astype(np.uint64)
    return np.ascontiguousarray(w[:, 0::2] | (w[:, 1::2] << np.uint64(32)))  # little-endian pairs


def year_generators(roots: list[int], year: int, purposes: int) -> list[list[np.random.Generator]]:
    """For each root (a run), the generators of ``purposes`` purposes in ``year``: generator [run][p] is
    ``np.random.default_rng(np.random.SeedSequence(roots[run], spawn_key=(year, p)))``."""
    entropy = entropy_words(roots, [(year, p) for p in range(purposes)])
    kernels = compiled_kernels()
    if kernels is None:
        words = state_words(pools(entropy))
    else:
        words = np.empty((entropy.shape[0], 4), dtype=np.uint64)
        kernels.seed_words(entropy, words)
    gens = [np.random.Generator(np.random.PCG64(SeedWords(w))) for w in words]
    return [gens[run * purposes:(run + 1) * purposes] for run in range(len(roots))]
