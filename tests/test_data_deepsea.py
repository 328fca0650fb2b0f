"""The DeepSEA bundle reader: tiny bundles written in the real layouts inside each test."""
import json
import os

import h5py
import numpy as np
import pytest
import scipy.io

from motifq.cli import main
from motifq.data import open_data
from motifq.data.deepsea import agct_to_tokens, cached_splits, convert_split, open_bundle
from motifq.errors import MotifqError
from motifq.sequence import AGCT, convert_order, one_hot, tokenize

KNOWN = "ACGTTGCANNGATTACA"   # planted as sample 0: proves the AGCT -> ACGT channel mapping
L, T = len(KNOWN), 11


def _data(rng, n=37):
    """(n, L) ACGT tokens (sample 0 = KNOWN, a few N) and (n, T) labels."""
    tokens = rng.integers(0, 4, size=(n, L)).astype(np.uint8)
    tokens[0] = tokenize(KNOWN)
    tokens[3, 2] = 4
    labels = rng.integers(0, 2, size=(n, T)).astype(np.uint8)
    labels[1] = 0
    return tokens, labels


def _agct_one_hot(tokens):
    """(n, L) tokens -> (n, 4, L) uint8 one-hot in the bundle's A, G, C, T order; N = all zero."""
    table = np.zeros((5, 4), dtype=np.uint8)
    for i, base in enumerate("ACGT"):
        table[i, AGCT.index(base)] = 1
    return table[tokens].transpose(0, 2, 1).copy()


def _write_v73(path, split, x, y, chunk=None, **kw):
    """MATLAB v7.3 layout: h5py sees x as (L, 4, N) and y as (T, N); `chunk` samples per HDF5 chunk."""
    with h5py.File(path, "w", userblock_size=512) as f:
        f.create_dataset(f"{split}xdata", data=x.transpose(2, 1, 0), chunks=chunk and (x.shape[2], 4, chunk), **kw)
        f.create_dataset(f"{split}data", data=y.T, chunks=chunk and (y.shape[1], chunk), **kw)


def _write_v5(path, split, x, y, **kw):
    scipy.io.savemat(path, {f"{split}xdata": x, f"{split}data": y}, **kw)


@pytest.fixture
def bundle(tmp_path, rng):
    tokens, labels = _data(rng)
    x = _agct_one_hot(tokens)
    d = tmp_path / "bundle"
    d.mkdir()
    _write_v73(d / "train.mat", "train", x, labels)
    _write_v5(d / "valid.mat", "valid", x[:20], labels[:20])
    _write_v5(d / "test.mat", "test", x[5:], labels[5:])
    return d, tokens, labels


def test_agct_to_tokens_known_sequence():
    x = convert_order(one_hot([KNOWN]), "ACGT", "AGCT", axis=-2)   # (1, 4, L) AGCT, N = 0.25
    assert np.array_equal(agct_to_tokens(x, axis=1)[0], tokenize(KNOWN))
    # uint8, channel axis first and last
    xu = (x == 1).astype(np.uint8)
    assert np.array_equal(agct_to_tokens(xu.transpose(2, 1, 0), axis=1).T[0], tokenize(KNOWN))
    # A one-hot [1,0,0,0], G [0,1,0,0], C [0,0,1,0], T [0,0,0,1] in AGCT order
    eye = np.eye(4, dtype=np.uint8)[:, :, None]          # (4 columns, 4 channels, 1)
    assert agct_to_tokens(eye, axis=1)[:, 0].tolist() == [0, 2, 1, 3]


def test_agct_to_tokens_non_one_hot_is_n():
    cols = np.array([[0, 0, 0, 0], [1, 1, 0, 0], [2, 0, 0, 0], [0, 0, 0, 1], [1, 0, 0, 0]], dtype=np.uint8)
    assert agct_to_tokens(cols[:, :, None], axis=1)[:, 0].tolist() == [4, 4, 4, 3, 0]
    f = np.array([[0.25] * 4, [0, 0, 1.0, 0], [np.nan, 0, 0, 0]])
    assert agct_to_tokens(f[:, :, None], axis=1)[:, 0].tolist() == [4, 1, 4]


def test_bundle_round_trip_all_splits(bundle):
    d, tokens, labels = bundle
    rows = {"train": slice(None), "valid": slice(0, 20), "test": slice(5, None)}
    for split, sl in rows.items():
        s = open_data(d, split, progress=False)
        assert isinstance(s.tokens, np.memmap)
        assert s.tokens.dtype == np.uint8 and s.tokens.shape == tokens[sl].shape
        assert np.array_equal(s.tokens, tokens[sl]), split
        assert np.array_equal(s.labels(), labels[sl]), split
        assert s.targets == [f"target_{k}" for k in range(1, T + 1)]
    assert "".join("ACGTN"[t] for t in open_data(d, "train", progress=False).tokens[0]) == KNOWN
    assert cached_splits(d) == ["train", "valid", "test"]


def test_chunked_equals_whole(tmp_path, bundle):
    d, tokens, labels = bundle
    for split in ("train", "valid"):
        small = open_bundle(d, split, cache=tmp_path / "c1", chunk_size=3, progress=False)
        whole = open_bundle(d, split, cache=tmp_path / "c2", chunk_size=10_000, progress=False)
        assert np.array_equal(small.tokens, whole.tokens)
        assert np.array_equal(small.packed_labels, whole.packed_labels)
    for name in ("train.tokens.npy", "train.labels.npy", "valid.tokens.npy"):
        assert (tmp_path / "c1" / name).read_bytes() == (tmp_path / "c2" / name).read_bytes()


def test_second_open_uses_cache(bundle):
    d, tokens, _ = bundle
    assert convert_split(d, "valid", progress=False) is True
    f = d / "motifq-cache" / "valid.tokens.npy"
    stamp = f.stat().st_mtime_ns
    assert convert_split(d, "valid", progress=False) is False
    s = open_data(d, "valid", progress=False)
    assert f.stat().st_mtime_ns == stamp and np.array_equal(s.tokens, tokens[:20])
    # the cache folder itself is a motifq dataset with only the converted split
    info = json.loads((d / "motifq-cache" / "dataset.json").read_text())
    assert info["splits"] == {"valid": 20} and info["alphabet"] == "ACGT"
    assert np.array_equal(open_data(d / "motifq-cache", "valid").tokens, tokens[:20])


def test_stale_cache_is_rebuilt(bundle, rng):
    d, tokens, labels = bundle
    open_data(d, "valid", progress=False)
    x = _agct_one_hot(tokens[:25])
    _write_v5(d / "valid.mat", "valid", x, labels[:25])            # a different (bigger) file
    assert cached_splits(d) == []
    assert len(open_data(d, "valid", progress=False)) == 25


def test_half_written_cache_is_not_complete(bundle):
    d, tokens, _ = bundle
    open_data(d, "valid", progress=False)
    cache = d / "motifq-cache"
    (cache / "train.tokens.npy").write_bytes(b"partial")            # e.g. a crash before dataset.json
    (cache / ".train.labels.npy.x.tmp").write_bytes(b"partial")
    assert cached_splits(d) == ["valid"]
    assert np.array_equal(open_data(d, "train", progress=False).tokens, tokens)
    assert not list(cache.glob("*.tmp"))                              # the killed run's leftovers are gone


def test_compressed_v5_falls_back_with_warning(tmp_path, rng):
    tokens, labels = _data(rng, 9)
    d = tmp_path / "b"
    d.mkdir()
    _write_v5(d / "test.mat", "test", _agct_one_hot(tokens).astype(np.float64), labels.astype(np.float64),
              do_compression=True)
    with pytest.warns(UserWarning, match="miCOMPRESSED"):
        s = open_data(d, "test", progress=False)
    assert np.array_equal(s.tokens, tokens) and np.array_equal(s.labels(), labels)


def test_chunked_hdf5_and_double_v5(tmp_path, rng):
    tokens, labels = _data(rng, 50)
    x = _agct_one_hot(tokens)
    d = tmp_path / "b"
    d.mkdir()
    _write_v73(d / "train.mat", "train", x, labels, chunk=8, compression="gzip")
    _write_v5(d / "valid.mat", "valid", x.astype(np.float64), labels.astype(np.float64))
    for split in ("train", "valid"):
        s = open_bundle(d, split, chunk_size=7, progress=False)
        assert np.array_equal(s.tokens, tokens) and np.array_equal(s.labels(), labels)


def test_targets_file(bundle, tmp_path):
    d, _, _ = bundle
    names = tmp_path / "predictor.names"
    names.write_text("".join(f"cell{k}|TF{k}|None\n" for k in range(T)))
    assert open_data(d, "valid", targets=names, progress=False).targets[2] == "cell2|TF2|None"
    names.write_text("a\nb\n")
    with pytest.raises(MotifqError, match="2 names for 11 targets"):
        open_data(d, "valid", targets=names, progress=False)


def _no_cache(d):
    return not (d / "motifq-cache").exists()


@pytest.mark.parametrize("case", ["missing_x", "missing_y", "shape", "count", "labels_2", "truncated_h5",
                                  "garbage", "truncated_v5", "bad_channels"])
def test_bad_bundles_one_line_error_no_cache(tmp_path, rng, case):
    tokens, labels = _data(rng)
    x = _agct_one_hot(tokens)
    d = tmp_path / "b"
    d.mkdir()
    split = "valid" if case in ("truncated_v5", "bad_channels", "missing_y") else "train"
    f = d / f"{split}.mat"
    if case == "missing_x":
        with h5py.File(f, "w") as h:
            h["traindata"] = labels.T
        match = "no variable 'trainxdata'"
    elif case == "missing_y":
        scipy.io.savemat(f, {"validxdata": x})
        match = "no variable 'validdata'"
    elif case == "shape":
        with h5py.File(f, "w") as h:
            h["trainxdata"] = x.transpose(2, 0, 1)    # (L, N, 4): not the bundle layout
            h["traindata"] = labels.T
        match = r"expected \(L, 4, N\)"
    elif case == "count":
        _write_v73(f, "train", x, labels[:-1])
        match = "traindata has 36 samples but trainxdata has 37"
    elif case == "labels_2":
        bad = labels.copy()
        bad[30, 4] = 2
        _write_v73(f, "train", x, bad)
        match = "labels must be 0 or 1"
    elif case == "truncated_h5":
        _write_v73(f, "train", x, labels)
        data = f.read_bytes()
        f.write_bytes(data[: len(data) * 2 // 3])
        match = "train.mat"
    elif case == "garbage":
        f.write_bytes(b"this is not a MATLAB file" * 20)
        match = "not a MATLAB v5 or v7.3 file"
    elif case == "truncated_v5":
        _write_v5(f, split, x, labels)
        data = f.read_bytes()
        f.write_bytes(data[:-100])
        match = "truncated"
    elif case == "bad_channels":
        _write_v5(f, split, x.transpose(0, 2, 1).copy(), labels)   # (N, L, 4)
        match = r"expected \(N, 4, L\)"
    with pytest.raises(MotifqError, match=match) as err:
        open_data(d, split, progress=False)
    assert "\n" not in str(err.value) and str(f) in str(err.value)
    assert _no_cache(d)
    assert main(["-q", "convert-deepsea", str(d), "--splits", split]) == 2
    assert _no_cache(d)


def test_convert_deepsea_cli(bundle, tmp_path, capsys):
    d, tokens, _ = bundle
    out = tmp_path / "cache"
    assert main(["convert-deepsea", str(d), "--cache", str(out), "--chunk-size", "4"]) == 0
    err = capsys.readouterr().err
    assert "train: 37 sequences of length 17, 11 targets (converted)" in err
    assert np.array_equal(open_data(out, "test").tokens, tokens[5:])
    assert main(["-q", "convert-deepsea", str(d), "--cache", str(out)]) == 0
    assert main(["convert-deepsea", str(d), "--cache", str(out), "--splits", "valid"]) == 0
    assert "already cached" in capsys.readouterr().err
    assert main(["convert-deepsea", str(tmp_path / "nothing")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_open_data_tells_folders_apart(bundle, tmp_path):
    d, _, _ = bundle
    with pytest.raises(MotifqError, match="neither a motifq dataset"):
        open_data(tmp_path)
    assert len(open_data(d, "test", progress=False)) == 32
    with pytest.raises(MotifqError, match="no valid.mat"):
        os.remove(d / "valid.mat")
        open_data(d, "valid", progress=False)


def test_corrupt_chunk_mid_conversion_leaves_no_cache(tmp_path, rng):
    tokens, labels = _data(rng, 200)
    d = tmp_path / "b"
    d.mkdir()
    f = d / "train.mat"
    _write_v73(f, "train", _agct_one_hot(tokens), labels, chunk=20, compression="gzip")
    data = bytearray(f.read_bytes())
    i = len(data) // 2
    data[i:i + 100] = b"\xff" * 100        # same size, a compressed chunk destroyed
    f.write_bytes(bytes(data))
    with pytest.raises(MotifqError, match="cannot read samples") as err:
        open_bundle(d, "train", chunk_size=20, progress=False)
    assert "\n" not in str(err.value) and str(f) in str(err.value)
    assert _no_cache(d)


def test_failure_keeps_other_cached_splits(bundle):
    d, tokens, labels = bundle
    open_data(d, "valid", progress=False)
    bad = labels.copy()
    bad[0, 0] = 3
    _write_v5(d / "test.mat", "test", _agct_one_hot(tokens), bad)
    with pytest.raises(MotifqError, match="test.mat: testdata samples 1..37: labels must be 0 or 1"):
        open_data(d, "test", progress=False)
    cache = d / "motifq-cache"
    assert sorted(p.name for p in cache.iterdir() if not p.name.startswith(".")) == [
        "dataset.json", "valid.labels.npy", "valid.tokens.npy"]
    assert not list(cache.glob("*.tmp")) and cached_splits(d) == ["valid"]


def test_concurrent_conversions_convert_once(bundle):
    import threading

    d, tokens, _ = bundle
    results = []
    threads = [threading.Thread(target=lambda: results.append(convert_split(d, "train", chunk_size=2, progress=False)))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, True]
    assert np.array_equal(open_data(d, progress=False).tokens, tokens)


def test_single_sample_v5_small_elements(tmp_path):
    # 1 sample, 1 target: validdata is a 1-byte "small data element" in the v5 file
    d = tmp_path / "b"
    d.mkdir()
    x = _agct_one_hot(tokenize("GATTACA")[None, :])
    _write_v5(d / "valid.mat", "valid", x, np.array([[1]], dtype=np.uint8))
    s = open_data(d, "valid", progress=False)
    assert s.tokens.tolist() == [tokenize("GATTACA").tolist()] and s.labels().tolist() == [[1]]
    assert s.targets == ["target_1"]


def test_lengths_must_agree_across_splits(bundle, rng):
    d, tokens, labels = bundle
    open_data(d, "train", progress=False)
    _write_v5(d / "valid.mat", "valid", _agct_one_hot(tokens[:, :10]), labels)
    with pytest.raises(MotifqError, match="length 10, but the cache .* holds length 17"):
        open_data(d, "valid", progress=False)
    _write_v5(d / "valid.mat", "valid", _agct_one_hot(tokens), labels[:, :5])
    with pytest.raises(MotifqError, match="5 targets, but the cache .* holds 11"):
        open_data(d, "valid", progress=False)
    assert cached_splits(d) == ["train"]


def test_bundle_folder_as_its_own_cache(bundle):
    d, tokens, labels = bundle
    assert np.array_equal(open_data(d, "valid", cache=d, progress=False).tokens, tokens[:20])
    assert (d / "dataset.json").is_file()
    # now the folder has dataset.json AND .mat files: other splits still convert on demand
    assert np.array_equal(open_data(d, "test", progress=False).labels(), labels[5:])
    assert cached_splits(d, cache=d) == ["valid", "test"]


def test_cli_data_arguments_with_targets(bundle, tmp_path):
    import argparse

    from motifq.cli.common import _add_data_args, _open_data

    d, tokens, _ = bundle
    names = tmp_path / "names.txt"
    names.write_text("\n".join(f"t{k}" for k in range(T)) + "\n")
    p = argparse.ArgumentParser()
    p.add_argument("-q", "--quiet", action="store_true")
    _add_data_args(p)
    args = p.parse_args(["-q", "--data", str(d), "--targets", str(names), "--cache", str(tmp_path / "c")])
    s = _open_data(args, args.split)
    assert s.targets[-1] == f"t{T - 1}" and np.array_equal(s.tokens, tokens[5:])
    assert (tmp_path / "c" / "test.tokens.npy").is_file()
