"""The numbers do not change by accident: fixed runs hash to the stored values (``golden.py``): to
single precision on any machine, bit for bit on a machine whose exact hashes are stored."""

import json

import numpy as np
import pandas as pd
import pytest
from golden import STORE, compute, frame_hash, platform_signature, rounded


@pytest.fixture(scope="module")
def hashes():
    return compute(), json.loads(STORE.read_text())


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
