"""The numbers do not change by accident: fixed runs hash to the stored values (``golden.py``): to
single precision on any machine, bit for bit on a machine whose exact hashes are stored."""

import json

import numpy as np
import pandas as pd
import pytest
from golden import STORE, compute, frame_hash, frames, platform_signature, rounded


@pytest.fixture(scope="module")
def made():
    return frames()


@pytest.fixture(scope="module")
def hashes(made):
    return compute(made), json.loads(STORE.read_text())


def test_results_round_to_the_stored_hashes_on_any_machine(hashes):
    made, stored = hashes
    assert made["rounded"] == stored["rounded"]


def test_results_are_bit_identical_to_the_stored_hashes_on_their_machine(hashes):
    made, stored = hashes
    signature = platform_signature()
    if signature not in stored["exact"]:
        pytest.skip(f"no exact hashes stored for this machine ({signature}); the rounded ones were checked")
    assert made["exact"][signature] == stored["exact"][signature]


def test_the_rounded_hash_sees_a_change_beyond_rounding_and_not_the_last_bit():
    values = np.array([1.0, 123456.789, -0.0, 3.0e9, np.nan])
    frame = pd.DataFrame({"stage": ["a", "b", "c", "d", "e"], "x": values})
    last_bit = frame.assign(x=np.nextafter(values, np.inf))
    changed = frame.assign(x=values * (1 + 1e-6))
    assert frame_hash(rounded(last_bit)) == frame_hash(rounded(frame))
    assert frame_hash(last_bit) != frame_hash(frame)
    assert frame_hash(rounded(changed)) != frame_hash(rounded(frame))


def test_the_rounded_hashes_hold_when_every_float_moves_by_the_largest_difference_between_processors(made, hashes):
    """7e-14 relative (the baseline's largest between AVX-512 and AVX2), up and down in turn."""
    stored = hashes[1]["rounded"]
    for key, frame in made.items():
        moved = frame.copy()
        for column in moved.columns:
            if moved[column].dtype.kind == "f":
                values = moved[column].to_numpy()
                moved[column] = values * (1.0 + 7e-14 * np.where(np.arange(values.size) % 2, 1.0, -1.0))
        moves = any(frame[c].dtype.kind == "f" and (frame[c] != 0).any() for c in frame)  # (all-zero: nothing)
        assert (frame_hash(moved) != frame_hash(frame)) == moves, key
        assert frame_hash(rounded(moved)) == stored[key], key
