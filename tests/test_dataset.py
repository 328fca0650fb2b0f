import json

import numpy as np
import pytest

from motifq.data.dataset import Split, is_dataset, open_split, pack_labels, unpack_labels, write_dataset
from motifq.errors import MotifqError


def test_pack_round_trip(rng):
    for T in (1, 7, 8, 9, 919):
        y = rng.integers(0, 2, size=(13, T)).astype(np.uint8)
        assert np.array_equal(unpack_labels(pack_labels(y), T), y)


def test_write_and_open(tmp_path, rng):
    targets = [f"t{i}" for i in range(11)]
    splits = {s: Split.from_arrays(rng.integers(0, 5, size=(n, 30)), rng.integers(0, 2, size=(n, 11)), targets)
              for s, n in (("train", 20), ("valid", 5), ("test", 6))}
    write_dataset(tmp_path / "d", splits, description="x", extra={"seed": 1})
    assert is_dataset(tmp_path / "d")
    back = open_split(tmp_path / "d", "valid")
    assert isinstance(back.tokens, np.memmap) and len(back) == 5 and back.targets == targets
    assert np.array_equal(back.tokens, splits["valid"].tokens)
    assert np.array_equal(back.labels([1, 3]), splits["valid"].labels([1, 3]))
    assert json.loads((tmp_path / "d" / "dataset.json").read_text())["seed"] == 1
    with pytest.raises(MotifqError, match="no 'other' split"):
        open_split(tmp_path / "d", "other")
    (tmp_path / "d" / "test.tokens.npy").write_bytes(b"garbage")
    with pytest.raises(MotifqError, match="test.tokens.npy"):
        open_split(tmp_path / "d", "test")
