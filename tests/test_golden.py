"""The numbers do not change by accident: fixed runs hash to the stored values, bit for bit."""

import json

from golden import STORE, compute


def test_results_are_bit_identical_to_the_stored_hashes():
    assert compute() == json.loads(STORE.read_text())
